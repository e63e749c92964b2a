/**
 * The EventSource over Elasticsearch, in pure TypeScript: the query DSL for the semantics of source.ts over the
 * `logs-provmon.*-*` data streams, paged with a point in time and search_after, sorted by @timestamp,
 * event.sequence, event.id. It talks to Elasticsearch through `PitSearch`, three functions any client provides:
 * the sensor CLI binds the official client (sensor/src/graph/es-source.ts), the Kibana server binds the request
 * user's scoped client the same way.
 *
 * Exactness. Elasticsearch is asked for a superset that its mappings can answer, and every hit is checked with
 * `matchesSelectors` (the reference semantics) before it is returned, so the answer is MemorySource's on the same
 * documents. Where the superset comes from:
 * - `@timestamp` is mapped `date` (milliseconds) while the sensor writes microseconds. The range is widened to whole
 *   milliseconds, and Elasticsearch's order (millisecond, sequence, id) can differ from the exact one (microsecond,
 *   sequence, id) only inside one millisecond; so a page is read to the end of the millisecond of its last event and
 *   sorted exactly before it is cut. (A `date_nanos` mapping makes that sort a no-op.) `after` is applied the same
 *   way: a range from its millisecond, then the exact comparison.
 * - ip fields compare addresses (::1 and 0:0:0:0:0:0:0:1 are equal); the engine compares strings.
 * Not recoverable here: a field is searchable only where the data stream's template maps it (`dynamic: false`):
 * keyword values longer than ignore_above (1024) are not indexed, so a longer path cannot be found; and the dns
 * data stream does not map process.* (the sensor's DNS documents come from packets and name no process).
 *
 * One point in time per source, opened on first use and kept alive by every search: a trace sees one snapshot of
 * the data streams. close() releases it. An expired one is reopened and the fetch restarts (its `after` is exact).
 */
import { datasetName, type EcsEvent } from '../ecs.ts';
import { DEFAULT_DATASETS, matchesSelectors, MODIFY_ACTIONS, querySets, WRITE_OPEN_FLAGS, type EventQuery, type EventSource } from './source.ts';
import { parseTimestamp } from './time.ts';

export const DEFAULT_INDEX = 'logs-provmon.*-*';

/** Query DSL, loosely typed (the official client's types are not available here). */
export type Query = Record<string, unknown>;

export interface PitSearchHit {
  _source?: EcsEvent;
  sort?: unknown[];
}

/** What the source needs from a client: the bodies are the search and point-in-time APIs' own. */
export interface PitSearch {
  openPointInTime(params: { index: string; keep_alive: string; ignore_unavailable: boolean; allow_partial_search_results: boolean }): Promise<{ id: string }>;
  closePointInTime(params: { id: string }): Promise<unknown>;
  search(params: {
    pit: { id: string; keep_alive: string };
    size: number;
    track_total_hits: false;
    query: Query;
    sort: Query[];
    search_after?: unknown[];
  }): Promise<{ pit_id?: string; hits: { hits: PitSearchHit[] } }>;
  /** True when the error says the point in time is gone (expired, or its node left): the source reopens it. */
  pitExpired(error: unknown): boolean;
}

export interface EsSourceOptions {
  /** Data streams / indices to read; default logs-provmon.*-* (every dataset and namespace). */
  index?: string;
  /** Documents per search request (at most 10 000). */
  pageSize?: number;
  /** Point-in-time keep-alive between requests. */
  keepAlive?: string;
}

const LINEAGE = ['fork', 'exec', 'already_running'];

/** Every spelling of the writable open flags the engine accepts (O_WRONLY, wronly, …). */
const WRITE_FLAG_SPELLINGS = WRITE_OPEN_FLAGS.flatMap((f) => [f, f.toLowerCase(), f.slice(2), f.slice(2).toLowerCase()]);

export const EVENT_SORT: Query[] = [
  { '@timestamp': { order: 'asc', format: 'strict_date_optional_time_nanos' } },
  { 'event.sequence': { order: 'asc', missing: -1 } },
  { 'event.id': { order: 'asc' } },
];

export class EsSearchSource implements EventSource {
  readonly index: string;
  private readonly pageSize: number;
  private readonly keepAlive: string;
  private pit: string | undefined;
  readonly counters = { queries: 0, requests: 0, returned: 0, pitsOpened: 0 };

  constructor(
    private readonly client: PitSearch,
    options: EsSourceOptions = {},
  ) {
    this.index = options.index ?? DEFAULT_INDEX;
    this.pageSize = Math.min(10_000, Math.max(1, options.pageSize ?? 10_000));
    this.keepAlive = options.keepAlive ?? '2m';
  }

  async fetch(q: EventQuery): Promise<EcsEvent[]> {
    this.counters.queries++;
    let out: EcsEvent[];
    try {
      out = await this.fetchOnce(q);
    } catch (error) {
      if (!this.client.pitExpired(error)) throw error;
      this.pit = undefined;
      out = await this.fetchOnce(q);
    }
    this.counters.returned += out.length;
    return out;
  }

  /** The point in time in use (tests expire it on purpose). */
  get pointInTime(): string | undefined {
    return this.pit;
  }

  async close(): Promise<void> {
    const id = this.pit;
    this.pit = undefined;
    if (id) await this.client.closePointInTime({ id }).catch(() => undefined);
  }

  private async openPit(): Promise<string> {
    if (this.pit) return this.pit;
    const r = await this.client.openPointInTime({ index: this.index, keep_alive: this.keepAlive, ignore_unavailable: true, allow_partial_search_results: false });
    this.counters.pitsOpened++;
    this.pit = r.id;
    return r.id;
  }

  private async fetchOnce(q: EventQuery): Promise<EcsEvent[]> {
    const limit = q.limit ?? Infinity;
    if (limit <= 0) return [];
    const sets = querySets(q);
    const query = buildEventQuery(q);
    const after = q.after ? { t: parseTimestamp(q.after.timestamp), seq: q.after.sequence, id: q.after.id } : undefined;
    const keyed: { ev: EcsEvent; t: number; seq: number; id: string }[] = [];
    // Once `limit` events are in hand: the millisecond of the last one. Events of that millisecond may still come
    // (Elasticsearch orders inside a millisecond by sequence and id, not by the microseconds); later ones may not.
    let boundaryMs: number | undefined;
    let searchAfter: unknown[] | undefined;
    const size = Number.isFinite(limit) ? Math.min(this.pageSize, Math.max(100, limit + 100)) : this.pageSize;
    for (;;) {
      const pit = await this.openPit();
      this.counters.requests++;
      const r = await this.client.search({
        pit: { id: pit, keep_alive: this.keepAlive },
        size,
        track_total_hits: false,
        query,
        sort: EVENT_SORT,
        ...(searchAfter ? { search_after: searchAfter } : {}),
      });
      if (r.pit_id) this.pit = r.pit_id;
      const hits = r.hits.hits;
      let done = false;
      for (const hit of hits) {
        const ev = hit._source;
        if (!ev) continue;
        const t = parseTimestamp(ev['@timestamp']);
        if (boundaryMs !== undefined && Math.floor(t) > boundaryMs) {
          done = true;
          break;
        }
        if (sets.from !== undefined && t < sets.from) continue;
        if (sets.to !== undefined && t > sets.to) continue;
        const seq = ev.event.sequence ?? -1;
        const id = ev.event.id;
        if (after && cmpKey(t, seq, id, after.t, after.seq, after.id) <= 0) continue;
        if (!matchesSelectors(ev, q, sets)) continue;
        keyed.push({ ev, t, seq, id });
        if (boundaryMs === undefined && keyed.length >= limit) boundaryMs = Math.floor(t);
      }
      if (done || hits.length < size) break;
      searchAfter = hits[hits.length - 1]!.sort;
      if (!searchAfter) break;
    }
    keyed.sort((a, b) => cmpKey(a.t, a.seq, a.id, b.t, b.seq, b.id));
    const out = Number.isFinite(limit) ? keyed.slice(0, limit) : keyed;
    return out.map((k) => k.ev);
  }
}

function cmpKey(ta: number, sa: number, ia: string, tb: number, sb: number, ib: string): number {
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** An IPv4 or IPv6 literal (what an `ip` field accepts). */
export function isIpLiteral(text: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(text)) return true;
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(text)) return false;
  const addr = text.replace(/%.*$/, '');
  const parts = addr.split('::');
  if (parts.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(parts[0]!);
  const tail = parts.length === 2 ? groups(parts[1]!) : [];
  const all = [...head, ...tail];
  let count = all.length;
  const last = all[all.length - 1];
  if (last?.includes('.')) {
    if (!isIpLiteral(last) || last.includes(':')) return false;
    count += 1; // an embedded IPv4 address takes two groups
    all.pop();
  }
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return parts.length === 2 ? count <= 7 : count === 8;
}

/** A superset of the query's matches, in what the mappings can answer (see the header). */
export function buildEventQuery(q: EventQuery): Query {
  const filter: Query[] = [];
  const range: { gte?: string; lt?: string } = {};
  let from = q.from === undefined ? undefined : parseTimestamp(q.from);
  if (q.after) {
    const t = parseTimestamp(q.after.timestamp);
    from = from === undefined ? t : Math.max(from, t);
  }
  if (from !== undefined) range.gte = new Date(Math.floor(from)).toISOString();
  if (q.to !== undefined) range.lt = new Date(Math.floor(parseTimestamp(q.to)) + 1).toISOString();
  if (range.gte || range.lt) filter.push({ range: { '@timestamp': { ...range, format: 'strict_date_optional_time' } } });
  filter.push({ terms: { 'data_stream.dataset': (q.datasets ?? DEFAULT_DATASETS).map(datasetName) } });
  if (q.hostIds) filter.push({ terms: { 'host.id': q.hostIds } });

  const should: Query[] = [];
  if (q.eventIds?.length) should.push({ terms: { 'event.id': q.eventIds } });
  if (q.entityIds?.length) {
    should.push({ terms: { 'process.entity_id': q.entityIds } });
    should.push({
      bool: {
        filter: [{ terms: { 'process.parent.entity_id': q.entityIds } }, { term: { 'data_stream.dataset': 'provmon.process' } }, { terms: { 'event.action': LINEAGE } }],
      },
    });
  }
  if (q.paths?.length) {
    const paths = q.paths;
    const onPath: Query = { terms: { 'file.path': paths } };
    if (q.pathAccess === 'modify') {
      should.push({
        bool: {
          filter: [
            onPath,
            {
              bool: {
                should: [{ terms: { 'event.action': [...MODIFY_ACTIONS] } }, { bool: { filter: [{ term: { 'event.action': 'open' } }, { terms: { 'provmon.open.flags': WRITE_FLAG_SPELLINGS } }] } }],
                minimum_should_match: 1,
              },
            },
          ],
        },
      });
    } else if (q.pathAccess === 'use') {
      should.push({ bool: { filter: [onPath, { terms: { 'event.action': ['read', 'open'] } }] } });
    } else {
      should.push(onPath);
    }
    if (q.pathAccess !== 'modify') {
      should.push({ terms: { 'provmon.file.source_path': paths } });
      should.push({
        bool: {
          filter: [{ term: { 'event.action': 'exec' } }, { bool: { should: [{ terms: { 'process.executable': paths } }, { terms: { 'process.args': paths } }], minimum_should_match: 1 } }],
        },
      });
    }
  }
  if (q.endpoints?.length) {
    // ip fields reject what is not an address; such a selector cannot match an indexed address anyway.
    const valid = q.endpoints.filter((e) => isIpLiteral(e.ip));
    const bare = [...new Set(valid.filter((e) => e.port === undefined).map((e) => e.ip))];
    if (bare.length) should.push({ terms: { 'source.ip': bare } }, { terms: { 'destination.ip': bare } });
    const byPort = new Map<number, Set<string>>();
    for (const e of valid) {
      if (e.port === undefined) continue;
      const ips = byPort.get(e.port) ?? new Set<string>();
      ips.add(e.ip);
      byPort.set(e.port, ips);
    }
    for (const [port, ips] of byPort) {
      for (const side of ['source', 'destination'] as const) {
        should.push({ bool: { filter: [{ terms: { [`${side}.ip`]: [...ips] } }, { term: { [`${side}.port`]: port } }] } });
      }
    }
    const all = [...new Set(valid.map((e) => e.ip))];
    if (all.length) should.push({ bool: { filter: [{ term: { 'data_stream.dataset': 'provmon.dns' } }, { terms: { 'dns.resolved_ip': all } }] } });
  }
  const anySelector = !!(q.eventIds?.length || q.entityIds?.length || q.paths?.length || q.endpoints?.length);
  if (anySelector) {
    // Selectors were given but none can match here (only invalid addresses): nothing matches.
    filter.push(should.length ? { bool: { should, minimum_should_match: 1 } } : { bool: { must_not: { match_all: {} } } });
  }
  return { bool: { filter } };
}
