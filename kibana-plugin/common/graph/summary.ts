/**
 * The attack summary: the relevant path as an ordered timeline in plain words. Deterministic — the same graph
 * always gives the same lines — so it can be diffed, tested, and used as the fallback (and the grounding) for a
 * generated narrative later.
 *
 * Relevant path: the edges on the attack path or carrying a flag; the spawn edges that started a process on the
 * attack path (who launched it is the first thing an analyst asks); and what a flagged process went on to do
 * (its connections, writes, deletions, renames, mode changes and children — forward from a dropped file, that is
 * the payload's behaviour). When nothing is flagged, every edge not touching a noise summary. Ordered by first
 * time, then edge id.
 */
import type { GraphEdge, GraphNode, SummaryLine } from './model.ts';
import { parseTimestamp } from './time.ts';

/** Edge kinds whose source is the acting process. */
const ACTIONS = new Set(['spawn', 'write', 'connect', 'delete', 'chmod']);

export interface SummaryOptions {
  /** most lines; the last line says how many were left out. */
  limit: number;
}

export function attackSummary(nodes: readonly GraphNode[], edges: readonly GraphEdge[], nameAt: (node: GraphNode, iso: string) => string, opts: SummaryOptions = { limit: 100 }): SummaryLine[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const flagged = (id: string) => byId.get(id)?.flags?.some((f) => f.severity !== 'low') ?? false;
  let relevant = edges.filter(
    (e) =>
      e.attack_path ||
      e.flags?.length ||
      (e.kind === 'spawn' && byId.get(e.target)?.attack_path) ||
      (ACTIONS.has(e.kind) && byId.get(e.source)?.kind === 'process' && flagged(e.source) && !byId.get(e.target)?.summary),
  );
  if (relevant.length === 0) relevant = edges.filter((e) => !byId.get(e.source)?.summary && !byId.get(e.target)?.summary);
  const ordered = [...relevant].sort((a, b) => cmpIso(a.first, b.first) || cmpId(a.id, b.id));
  const lines: SummaryLine[] = [];
  for (const e of ordered.slice(0, opts.limit)) {
    const source = byId.get(e.source);
    const target = byId.get(e.target);
    if (!source || !target) continue;
    const name = (n: GraphNode) => (n.kind === 'process' ? nameAt(n, e.first) : n.label);
    const times = e.count > 1 ? ` (${e.count} events)` : '';
    let text: string;
    switch (e.kind) {
      case 'spawn':
        // At fork time the child still runs its parent's program; name it by what it went on to run.
        text = `${name(source)} started ${target.label}`;
        break;
      case 'exec':
        text = `${name(target)} ${e.script ? 'ran the script' : 'executed'} ${name(source)}`;
        break;
      case 'read':
        text = `${name(target)} read ${name(source)}${bytes(e.bytes)}${times}`;
        break;
      case 'write':
        text = `${name(source)} wrote ${name(target)}${bytes(e.bytes)}${times}`;
        break;
      case 'connect':
        text = `${name(source)} connected to ${name(target)}${traffic(e)}${times}`;
        break;
      case 'accept':
        text = `${name(target)} accepted a connection from ${name(source)}${traffic(e)}${times}`;
        break;
      case 'delete':
        text = `${name(source)} deleted ${name(target)}`;
        break;
      case 'rename': {
        const by = e.by ? byId.get(e.by) : undefined;
        text = `${by ? name(by) : 'a process'} renamed ${name(source)} to ${name(target)}`;
        break;
      }
      case 'chmod':
        text = `${name(source)} changed the mode of ${name(target)}${e.mode ? ` to ${e.mode}` : ''}`;
        break;
    }
    const flags = e.flags ?? [];
    const techniques = [...new Set(flags.map((f) => f.technique).filter((t): t is string => !!t))].sort();
    if (flags.length) text += ` — ${[...new Set(flags.map((f) => f.rule))].sort().join(', ')}${techniques.length ? ` [${techniques.join(', ')}]` : ''}`;
    lines.push({ at: e.first, text, edge: e.id, ...(techniques.length ? { techniques } : {}) });
  }
  if (ordered.length > opts.limit) {
    const last = ordered[ordered.length - 1]!;
    lines.push({ at: last.first, text: `… and ${ordered.length - opts.limit} more steps`, edge: '' });
  }
  return lines;
}

function bytes(n: number | undefined): string {
  return n ? ` (${formatBytes(n)})` : '';
}

function traffic(e: GraphEdge): string {
  const parts: string[] = [];
  if (e.bytes_sent) parts.push(`sent ${formatBytes(e.bytes_sent)}`);
  if (e.bytes_received) parts.push(`received ${formatBytes(e.bytes_received)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

function cmpIso(a: string, b: string): number {
  const ta = parseTimestamp(a);
  const tb = parseTimestamp(b);
  if (ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpId(a: string, b: string): number {
  // e2 before e10
  const na = Number(a.slice(1));
  const nb = Number(b.slice(1));
  if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
