/**
 * Where the tracker gets its events. A trace asks only for the events of the nodes on its frontier, level by
 * level, so a source must answer selective queries quickly; it is never asked for "everything".
 *
 * Implementations: `MemorySource` below (tests, small inputs); the local store (bun:sqlite) and Elasticsearch
 * (point in time + search_after) live outside kibana-plugin/common because they need Bun or a client:
 * sensor/src/graph/local-source.ts and es-source.ts, held to these semantics by source-conformance.es.test.ts.
 *
 * ## Query semantics (every implementation must follow them)
 *
 * - `from` / `to`: `@timestamp` range, both inclusive (`gte` / `lte`). Either may be absent.
 * - Selectors — `entityIds`, `paths`, `endpoints`, `eventIds` — are OR-ed: an event matches when it matches any
 *   of them. A query with no selector at all matches on time alone (the engine never sends one).
 *   - `entityIds`: `process.entity_id` on any event; `process.parent.entity_id` only on lineage events
 *     (dataset process, actions fork / exec / already_running). Matching the parent on every event would return
 *     every event of every child, when what the tracker needs is "which processes did this one start".
 *   - `paths`: `file.path` or `provmon.file.source_path` on any event; `process.executable` or an element of
 *     `process.args` only on exec events (the exec edge's file — the binary, or the script an interpreter was
 *     started on; every other event of the process names its executable too). A script started by a relative
 *     path (`./x.sh`) is only found through its later open/read, which names the resolved path.
 *   - `pathAccess` narrows the `paths` matches (only those) to one side of the file:
 *     `modify` = what changes the file: actions creation, write, deletion, permission_change, rename (on
 *     `file.path`, the new name), and open with any of O_WRONLY, O_RDWR, O_TRUNC, O_CREAT, O_APPEND;
 *     `use` = what the file feeds: actions read, open (any flags: its intent is decided later), rename (on
 *     `provmon.file.source_path`), and the exec matches above. Backward tracking asks for `modify` (nobody
 *     needs every read of libc to learn who wrote it), forward for `use`.
 *   - `endpoints`: `source.ip`/`source.port` or `destination.ip`/`destination.port`; an endpoint without a port
 *     matches any port. On dns documents: `dns.resolved_ip` contains the ip (port ignored) — how endpoint labels
 *     get their domain.
 *   - `eventIds`: `event.id`.
 * - `hostIds`: restricts every match to documents of these `host.id`s (file paths and loopback addresses only
 *   mean something on one host; the tracker sets it whenever every node it asks about belongs to a known host).
 * - `datasets`: restricts `data_stream.dataset` to `provmon.<dataset>`; absent = process, file, network, dns
 *   (flows carry no process and make no edge).
 * - Order: ascending by `@timestamp`, then `event.sequence` (absent first), then `event.id`. `after` is the
 *   `sortKey()` of the last event of the previous page: return only events strictly after it (search_after).
 * - `limit`: at most that many events; the caller pages with `after` until a page comes back short.
 */
import { datasetOf, type Dataset, type EcsEvent } from '../ecs.ts';
import { parseTimestamp } from './time.ts';

export interface EndpointSelector {
  ip: string;
  port?: number;
}

export interface SortKey {
  timestamp: string;
  sequence: number;
  id: string;
}

export interface EventQuery {
  from?: string;
  to?: string;
  entityIds?: string[];
  paths?: string[];
  endpoints?: EndpointSelector[];
  eventIds?: string[];
  pathAccess?: 'modify' | 'use';
  hostIds?: string[];
  datasets?: Dataset[];
  limit?: number;
  after?: SortKey;
}

/** Actions that change a file's content, name, existence or mode (plus writable opens, see openWrites). */
export const MODIFY_ACTIONS = new Set(['creation', 'write', 'deletion', 'permission_change', 'rename']);
/** open flags that make an open a modification. */
export const WRITE_OPEN_FLAGS = ['O_WRONLY', 'O_RDWR', 'O_TRUNC', 'O_CREAT', 'O_APPEND'];

/** Whether an open with these flags (`O_WRONLY`, `wronly`, … in any case) can change the file. */
export function openWrites(flags: string[] | undefined): boolean {
  return !!flags?.some((f) => WRITE_OPEN_FLAGS.includes(f.toUpperCase().startsWith('O_') ? f.toUpperCase() : `O_${f.toUpperCase()}`));
}

export interface EventSource {
  fetch(q: EventQuery): Promise<EcsEvent[]>;
}

export const DEFAULT_DATASETS: Dataset[] = ['process', 'file', 'network', 'dns'];

/** The sort values of an event, for `after` (and, in Elasticsearch, `search_after`). */
export function sortKey(ev: EcsEvent): SortKey {
  return { timestamp: ev['@timestamp'], sequence: ev.event.sequence ?? -1, id: ev.event.id };
}

export function compareSortKeys(a: SortKey, b: SortKey): number {
  const ta = parseTimestamp(a.timestamp);
  const tb = parseTimestamp(b.timestamp);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.sequence !== b.sequence) return a.sequence < b.sequence ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const LINEAGE_ACTIONS = new Set(['fork', 'exec', 'already_running']);

/** The reference implementation of the query semantics above, as a predicate (without `after`/`limit`). */
export function matchesQuery(ev: EcsEvent, q: EventQuery, sets?: QuerySets): boolean {
  const s = sets ?? querySets(q);
  const t = parseTimestamp(ev['@timestamp']);
  if (s.from !== undefined && t < s.from) return false;
  if (s.to !== undefined && t > s.to) return false;
  return matchesSelectors(ev, q, s);
}

/** Dataset and selectors only (the caller has checked the time range). */
export function matchesSelectors(ev: EcsEvent, q: EventQuery, s: QuerySets): boolean {
  const dataset = datasetOf(ev.data_stream?.dataset ?? ev.event.dataset);
  if (!dataset || !s.datasets.has(dataset)) return false;
  if (s.hosts && !s.hosts.has(ev.host?.id)) return false;
  if (!s.any) return true;
  if (s.eventIds.has(ev.event.id)) return true;
  const p = ev.process;
  if (p) {
    if (s.entityIds.has(p.entity_id)) return true;
    if (p.parent?.entity_id && s.entityIds.has(p.parent.entity_id) && dataset === 'process' && LINEAGE_ACTIONS.has(ev.event.action)) return true;
    if (ev.event.action === 'exec' && s.paths.size > 0 && q.pathAccess !== 'modify') {
      if (p.executable && s.paths.has(p.executable)) return true;
      if (p.args?.some((a) => s.paths.has(a))) return true;
    }
  }
  const action = ev.event.action;
  if (ev.file?.path && s.paths.has(ev.file.path)) {
    const modifies = MODIFY_ACTIONS.has(action) || (action === 'open' && openWrites(ev.provmon?.open?.flags));
    if (q.pathAccess === undefined) return true;
    if (q.pathAccess === 'modify' && modifies) return true;
    if (q.pathAccess === 'use' && (action === 'read' || action === 'open')) return true;
  }
  const src = ev.provmon?.file?.source_path;
  if (src && s.paths.has(src) && q.pathAccess !== 'modify') return true;
  if (dataset === 'dns' && ev.dns?.resolved_ip?.some((ip) => s.allIps.has(ip))) return true;
  for (const ep of [ev.source, ev.destination]) {
    if (!ep?.ip) continue;
    if (s.ips.has(ep.ip)) return true;
    if (ep.port !== undefined && s.ipPorts.has(`${ep.ip}|${ep.port}`)) return true;
  }
  return false;
}

export interface QuerySets {
  from?: number;
  to?: number;
  datasets: Set<string>;
  entityIds: Set<string>;
  paths: Set<string>;
  eventIds: Set<string>;
  /** endpoints without a port */
  ips: Set<string>;
  ipPorts: Set<string>;
  /** every endpoint ip, with or without port (dns matching) */
  allIps: Set<string>;
  hosts?: Set<string>;
  any: boolean;
}

export function querySets(q: EventQuery): QuerySets {
  const ips = new Set<string>();
  const ipPorts = new Set<string>();
  for (const e of q.endpoints ?? []) {
    if (e.port === undefined) ips.add(e.ip);
    else ipPorts.add(`${e.ip}|${e.port}`);
  }
  const sets: QuerySets = {
    datasets: new Set(q.datasets ?? DEFAULT_DATASETS),
    entityIds: new Set(q.entityIds ?? []),
    paths: new Set(q.paths ?? []),
    eventIds: new Set(q.eventIds ?? []),
    ips,
    ipPorts,
    allIps: new Set((q.endpoints ?? []).map((e) => e.ip)),
    any: false,
  };
  if (q.hostIds) sets.hosts = new Set(q.hostIds);
  if (q.from !== undefined) sets.from = parseTimestamp(q.from);
  if (q.to !== undefined) sets.to = parseTimestamp(q.to);
  sets.any = sets.entityIds.size + sets.paths.size + sets.eventIds.size + ips.size + ipPorts.size > 0;
  return sets;
}

/**
 * An array filtered per query. Sorted once; each query is a linear scan of the time range, which is all tests
 * and small captures need. It also counts the queries and the events it returned, so tests can check that the
 * tracker fetched incrementally rather than loading everything.
 */
export class MemorySource implements EventSource {
  private readonly events: EcsEvent[];
  private readonly times: number[];
  readonly log: { query: EventQuery; returned: number }[] = [];

  constructor(events: readonly EcsEvent[]) {
    const keyed = events.map((ev) => ({ ev, t: parseTimestamp(ev['@timestamp']), seq: ev.event.sequence ?? -1, id: ev.event.id }));
    keyed.sort((a, b) => a.t - b.t || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.events = keyed.map((k) => k.ev);
    this.times = keyed.map((k) => k.t);
  }

  get size(): number {
    return this.events.length;
  }

  /** Total events handed out over all queries so far. */
  get returned(): number {
    return this.log.reduce((n, l) => n + l.returned, 0);
  }

  async fetch(q: EventQuery): Promise<EcsEvent[]> {
    const sets = querySets(q);
    const limit = q.limit ?? Infinity;
    let i = sets.from === undefined ? 0 : lowerBound(this.times, sets.from);
    if (q.after) i = Math.max(i, lowerBound(this.times, parseTimestamp(q.after.timestamp)));
    const out: EcsEvent[] = [];
    for (; i < this.events.length && out.length < limit; i++) {
      if (sets.to !== undefined && this.times[i]! > sets.to) break;
      const ev = this.events[i]!;
      if (q.after && compareSortKeys(sortKey(ev), q.after) <= 0) continue;
      if (matchesSelectors(ev, q, sets)) out.push(ev);
    }
    this.log.push({ query: q, returned: out.length });
    return out;
  }
}

function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
