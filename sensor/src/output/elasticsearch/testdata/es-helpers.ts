/** Helpers for the *.es.test.ts files and the bench: real nodes, configs, id listings, captured logs. */
import type { Client } from '@elastic/elasticsearch';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, type Config, type ConfigInput } from '../../../config/schema.ts';
import { resolveRunAs, startNode, type EsNode, type StartOptions } from '../../../../../scripts/es-node/node.ts';
import type { SinkLog } from '../bulk-sink.ts';

export function esConfig(node: EsNode, es: NonNullable<ConfigInput['es_config']> = {}, rest: Partial<ConfigInput> = {}): Config {
  return ConfigSchema.parse({
    storage_type: 'elasticsearch',
    ...rest,
    es_config: {
      hosts: [node.url],
      enrich_refresh_interval: 0,
      retry_initial_ms: 50,
      retry_max_ms: 2000,
      ...(node.security && !es.api_key && es.es_user === undefined ? { es_user: node.username ?? 'elastic', es_password: node.password ?? '' } : {}),
      ...es,
    },
  });
}

const made: string[] = [];

/** A temporary root with events/ and outputs/ paths under it; removed by removeTempDirs(). */
export function tempDirs(prefix: string): { root: string; eventsDir: string; outputDir: string } {
  const root = mkdtempSync(join(tmpdir(), `provmon-${prefix}-`));
  made.push(root);
  return { root, eventsDir: join(root, 'events'), outputDir: join(root, 'outputs') };
}

/** A temporary directory removed by removeTempDirs(). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `provmon-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Every event.id in the indices matching `index` (search_after over event.id, so any count works). */
export async function allIds(client: Client, index: string): Promise<string[]> {
  await client.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true });
  const ids: string[] = [];
  let after: (string | number)[] | undefined;
  for (;;) {
    const r = await client.search<{ event: { id: string } }>({
      index,
      size: 5000,
      _source: ['event.id'],
      sort: [{ 'event.id': 'asc' }],
      ...(after ? { search_after: after } : {}),
      query: { match_all: {} },
    });
    const hits = r.hits.hits;
    if (hits.length === 0) break;
    for (const h of hits) ids.push(h._source!.event.id);
    after = hits[hits.length - 1]!.sort as (string | number)[];
  }
  return ids;
}

/** event.id of every line of the local store's JSONL files (the JSONL copies). */
export function jsonlIds(eventsDir: string): string[] {
  const ids: string[] = [];
  for (const f of readdirSync(eventsDir)) {
    if (!f.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(eventsDir, f), 'utf8').split('\n')) if (line) ids.push((JSON.parse(line) as { event: { id: string } }).event.id);
  }
  return ids;
}

/** A logger that keeps its lines, to check what a user would read (and that no secret is in it). */
export function captureLog(): SinkLog & { lines: string[] } {
  const lines: string[] = [];
  const put = (a: unknown, b?: unknown) => lines.push(typeof a === 'string' ? a : `${String(b ?? '')} ${JSON.stringify(a)}`);
  return { lines, info: put, warn: put, error: put, debug: put } as unknown as SinkLog & { lines: string[] };
}

/**
 * A node whose data directory outlives it, so it can be stopped and started again on the same port with the
 * same data (startNode keeps config, logs and tmp in its own directory and deletes that on stop).
 */
export async function restartableNode(name: string, opts: Omit<StartOptions, 'name'> = {}): Promise<{ node: EsNode; dataDir: string; restart: () => Promise<EsNode>; dispose: () => Promise<void> }> {
  const base = mkdtempSync(join(tmpdir(), `provmon-esdata-${name}-`));
  chmodSync(base, 0o755);
  const dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const runAs = resolveRunAs(() => undefined);
  if (runAs.switchUser) chownSync(dataDir, runAs.uid, runAs.gid);
  const settings = { ...(opts.settings ?? {}), 'path.data': dataDir };
  let node = await startNode({ ...opts, name, settings, ownerPid: process.pid });
  const port = node.port;
  return {
    get node() {
      return node;
    },
    dataDir,
    restart: async () => {
      node = await startNode({ ...opts, name, port, settings, ownerPid: process.pid });
      return node;
    },
    dispose: async () => {
      await node.stop();
      rmSync(base, { recursive: true, force: true });
    },
  } as { node: EsNode; dataDir: string; restart: () => Promise<EsNode>; dispose: () => Promise<void> };
}
