/**
 * The events search answered by Elasticsearch without reading the window: counts from aggregations, one page from
 * a sorted search. Exact, as the scan path (events.ts) is, within what the mappings keep:
 *
 * - `@timestamp` is mapped `date` (milliseconds) while documents carry microseconds. The window is widened to whole
 *   milliseconds and the documents of its two edge milliseconds that the exact window leaves out are excluded by
 *   id; a page is cut from whole milliseconds sorted exactly (Elasticsearch orders inside a millisecond by
 *   sequence and id, not by the microseconds).
 * - Distinct counts (processes, hosts) and per-action counts come from composite aggregations paged to the end:
 *   exact, unlike `cardinality`, which is an estimate.
 *
 * Undefined (the route reads the window instead) for free text (see filter.ts), for a page beyond
 * `index.max_result_window` (from + size ≤ 10 000), and for an edge millisecond holding more documents than one
 * search returns.
 */
import { datasetName, type EcsEvent } from '../ecs.ts';
import { compareSortKeys, sortKey } from '../graph/source.ts';
import { parseTimestamp } from '../graph/time.ts';
import { eventsSummary, withTarget, type EventsAnswer, type EventsQuery } from './events.ts';
import { filterClauses, SEARCH_DATASETS } from './filter.ts';

/** The one call used; the official client (or Kibana's scoped one) is assignable to it. */
export interface EventsSearchClient {
  search(params: never): Promise<unknown>;
}

type Clause = Record<string, unknown>;

interface SearchAnswer {
  hits: { total?: number | { value: number }; hits: { _source?: EcsEvent }[] };
  aggregations?: Record<string, { after_key?: Record<string, unknown>; buckets?: { key: Record<string, string>; doc_count: number }[]; doc_count?: number }>;
}

/** Elasticsearch's default index.max_result_window: from + size beyond it is refused. */
const MAX_RESULT_WINDOW = 10_000;
const COMPOSITE_PAGE = 10_000;
/** Composite pages per distinct count: 1 M distinct values, then the answer says truncated. */
const MAX_COMPOSITE_PAGES = 100;

const ms = (iso: string) => Math.floor(parseTimestamp(iso));
const msRange = (gte?: number, lte?: number): Clause => ({
  range: { '@timestamp': { ...(gte !== undefined ? { gte } : {}), ...(lte !== undefined ? { lte } : {}), format: 'epoch_millis' } },
});

function total(r: SearchAnswer): number {
  const t = r.hits.total;
  return typeof t === 'number' ? t : (t?.value ?? 0);
}

export async function esEventsAnswer(client: EventsSearchClient, query: EventsQuery, index: string): Promise<EventsAnswer | undefined> {
  const clauses = filterClauses(query.filter);
  if (!clauses) return undefined;
  const start = query.page * query.size;
  if (start + query.size > MAX_RESULT_WINDOW) return undefined;
  const search = (body: Clause) => (client.search as (p: Clause) => Promise<SearchAnswer>)({ index, ignore_unavailable: true, allow_no_indices: true, ...body });
  const { from, to } = query.window;
  const fromMs = from === undefined ? undefined : ms(from);
  const toMs = to === undefined ? undefined : ms(to);
  const base: Clause[] = [{ terms: { 'data_stream.dataset': SEARCH_DATASETS.map(datasetName) } }, ...clauses];
  if (fromMs !== undefined || toMs !== undefined) base.push(msRange(fromMs, toMs));

  // The edge milliseconds' documents outside the exact window.
  const outside: string[] = [];
  for (const edge of new Set([fromMs, toMs].filter((m): m is number => m !== undefined))) {
    const r = await search({ size: MAX_RESULT_WINDOW, track_total_hits: true, _source: ['@timestamp', 'event.id'], query: { bool: { filter: [...base, msRange(edge, edge)] } } });
    if (total(r) > r.hits.hits.length) return undefined;
    for (const h of r.hits.hits) {
      const t = parseTimestamp(h._source!['@timestamp']);
      if ((from !== undefined && t < parseTimestamp(from)) || (to !== undefined && t > parseTimestamp(to))) outside.push(h._source!.event.id);
    }
  }
  const bool = (extra: Clause[] = []): Clause => ({ bool: { filter: [...base, ...extra], ...(outside.length ? { must_not: [{ terms: { 'event.id': outside } }] } : {}) } });

  const [counts, processes, hosts, page] = await Promise.all([
    compositeCounts(search, bool(), 'event.action', { failures: { filter: { term: { 'event.outcome': 'failure' } } } }),
    compositeCounts(search, bool(), 'process.entity_id'),
    compositeCounts(search, bool(), 'host.id'),
    exactPage(search, bool, query.sort, start, query.size),
  ]);
  if (!page) return undefined;
  const actions: Record<string, number> = {};
  let matched = 0;
  let failures = 0;
  for (const b of counts.buckets) {
    actions[b.key] = b.count;
    matched += b.count;
    failures += b.sub.failures ?? 0;
  }
  // Documents without event.action have no bucket; every provmon document has one, so the sum is the total.
  return {
    total: matched,
    page: query.page,
    size: query.size,
    events: page.map(withTarget),
    summary: eventsSummary(actions, processes.buckets.filter((b) => b.key !== '').length, failures, hosts.buckets.filter((b) => b.key !== '').length),
    scanned: page.length,
    truncated: counts.truncated || processes.truncated || hosts.truncated,
  };
}

type Search = (body: Clause) => Promise<SearchAnswer>;

/** Every value of a field with its document count (and filter sub-aggregation counts), composite page by page. */
async function compositeCounts(search: Search, query: Clause, field: string, sub: Record<string, Clause> = {}) {
  const buckets: { key: string; count: number; sub: Record<string, number> }[] = [];
  let after: Record<string, unknown> | undefined;
  for (let pages = 0; pages < MAX_COMPOSITE_PAGES; pages++) {
    const r = await search({
      size: 0,
      query,
      aggs: { values: { composite: { size: COMPOSITE_PAGE, sources: [{ v: { terms: { field } } }], ...(after ? { after } : {}) }, aggs: sub } },
    });
    const agg = r.aggregations?.values;
    const got = agg?.buckets ?? [];
    for (const b of got) {
      const counts: Record<string, number> = {};
      for (const name of Object.keys(sub)) counts[name] = (b as unknown as Record<string, { doc_count: number }>)[name]?.doc_count ?? 0;
      buckets.push({ key: String(b.key.v), count: b.doc_count, sub: counts });
    }
    if (got.length < COMPOSITE_PAGE || !agg?.after_key) return { buckets, truncated: false };
    after = agg.after_key;
  }
  return { buckets, truncated: true };
}

/** Positions [start, start + size) of the exact order, newest or oldest first. */
async function exactPage(search: Search, bool: (extra?: Clause[]) => Clause, sort: 'asc' | 'desc', start: number, size: number): Promise<EcsEvent[] | undefined> {
  const order = [{ '@timestamp': { order: sort } }, { 'event.sequence': { order: sort, missing: -1 } }, { 'event.id': { order: sort } }];
  const r = await search({ from: start, size, track_total_hits: false, sort: order, query: bool() });
  const hits = r.hits.hits.map((h) => h._source!);
  if (hits.length === 0) return [];
  const firstMs = ms(hits[0]!['@timestamp']);
  const lastMs = ms(hits[hits.length - 1]!['@timestamp']);
  // Documents of the page's first millisecond may sit before `start` in the exact order, and those of its last one
  // after the page: read both whole, and count what comes before the first in the exact order.
  const beyond = sort === 'desc' ? msRange(firstMs + 1, undefined) : msRange(undefined, firstMs - 1);
  const [before, firstGroup, lastGroup] = await Promise.all([
    search({ size: 0, track_total_hits: true, query: bool([beyond]) }).then(total),
    wholeMillisecond(search, bool, firstMs),
    lastMs === firstMs ? Promise.resolve([] as EcsEvent[]) : wholeMillisecond(search, bool, lastMs),
  ]);
  if (!firstGroup || !lastGroup) return undefined;
  const byId = new Map<string, EcsEvent>();
  for (const ev of [...firstGroup, ...hits, ...lastGroup]) byId.set(ev.event.id, ev);
  const exact = [...byId.values()].sort((a, b) => compareSortKeys(sortKey(a), sortKey(b)));
  if (sort === 'desc') exact.reverse();
  return exact.slice(start - before, start - before + size);
}

async function wholeMillisecond(search: Search, bool: (extra?: Clause[]) => Clause, at: number): Promise<EcsEvent[] | undefined> {
  const r = await search({ size: MAX_RESULT_WINDOW, track_total_hits: true, query: bool([msRange(at, at)]) });
  return total(r) > r.hits.hits.length ? undefined : r.hits.hits.map((h) => h._source!);
}
