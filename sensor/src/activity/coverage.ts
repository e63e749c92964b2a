/**
 * How much of a generator manifest a capture holds: an action counts as found when every pid it started appears
 * as process.pid of a document (pids are not reused within a short run), every file it touched appears as a file.path (or rename source,
 * or in the arguments of a process, for syscalls no dataset records such as utimensat), and every endpoint as a
 * destination.
 */
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { ManifestEntry } from './generate.ts';

export interface CoverageRow {
  category: string;
  actions: number;
  found: number;
  share: number;
  missing: { action: string; pids: number[]; files: string[]; endpoints: string[] }[];
}

export function coverage(manifest: ManifestEntry[], docs: EcsEvent[]): CoverageRow[] {
  const pids = new Set<number>();
  const files = new Set<string>();
  const endpoints = new Set<string>();
  const args: string[] = [];
  for (const d of docs) {
    if (d.process?.pid !== undefined) pids.add(d.process.pid);
    if (d.file?.path) files.add(d.file.path);
    const source = (d.provmon?.file as { source_path?: string } | undefined)?.source_path;
    if (source) files.add(source);
    if (d.destination?.ip && d.destination.port !== undefined) endpoints.add(`${d.destination.ip}:${d.destination.port}`);
    if (d.event.action === 'exec' && d.process?.args) args.push(d.process.args.join(' '));
  }
  const inArgs = (f: string) => args.some((a) => a.includes(f));
  const rows = new Map<string, CoverageRow>();
  for (const e of manifest) {
    for (const key of [e.category, e.technique ? `${e.category}/${e.action}` : e.category]) {
      if (!rows.has(key)) rows.set(key, { category: key, actions: 0, found: 0, share: 0, missing: [] });
    }
    const missing = {
      action: e.action,
      pids: e.pids.filter((p) => !pids.has(p)),
      files: e.files.filter((f) => !files.has(f) && !inArgs(f)),
      endpoints: e.endpoints.filter((ep) => !endpoints.has(ep)),
    };
    const found = missing.pids.length + missing.files.length + missing.endpoints.length === 0;
    for (const key of new Set([e.category, e.technique ? `${e.category}/${e.action}` : e.category])) {
      const row = rows.get(key)!;
      row.actions += 1;
      if (found) row.found += 1;
      else if (row.missing.length < 20) row.missing.push(missing);
    }
  }
  for (const row of rows.values()) row.share = row.actions ? row.found / row.actions : 0;
  return [...rows.values()].sort((a, b) => a.category.localeCompare(b.category));
}
