/**
 * The flows answer from Elasticsearch aggregations: two size-0 searches for the charts (terms, date_histogram,
 * range, filter, missing), one for the scatter points and one for the table, run together. Sums are over the final
 * reports' `provmon.flow.total.*` (see filter.ts). Truncation is reported: each ranked chart's `other` comes from
 * `sum_other_doc_count` and, for bytes and packets, from the totals less what the flows without that field carry.
 *
 * Where the time goes (docs/elasticsearch.md, "The Flows page over Elasticsearch"): each aggregation reads every matching flow's doc
 * values, so the charts' cost is the number of aggregations times the flows. Hence one date histogram for both time
 * series and the totals, one `missing` per field instead of a filter around each chart, and the aggregations split
 * over two searches (one search aggregates a shard on one thread).
 */
import type { EcsEvent } from '../ecs.ts';
import {
  DIMENSIONS, DURATION_RANGES, HOUR_MS, INTERVALS, ROW_FIELDS, SCATTER_POINTS, TABLE_ROWS, TABLE_SORTS, TOP_BUCKETS, flowRow, flowWindow,
  type Bucket, type Dimension, type FlowsAnswer, type FlowsRequest, type Ranked, type RankedName, type TimePoint,
} from './answer.ts';
import { FLOW_INDEX, flowFilterClauses, type FlowFilter } from './filter.ts';

/** The one call used; the official client (or Kibana's scoped one) is assignable to it. */
export interface AggregationClient {
  search(params: never): Promise<unknown>;
}

type Agg = Record<string, unknown>;

const SUMS: Agg = { bytes: { sum: { field: 'provmon.flow.total.bytes' } }, packets: { sum: { field: 'provmon.flow.total.packets' } } };

/** Flows with a process: the flows less those missing this field. */
const PROCESS_FIELD = 'process.entity_id';

/**
 * Fields whose flows without a value are summed (`missing`): a single-valued chart's `other` bytes are the bytes of
 * the flows with the field less its top buckets', and the flows with a process are counted from the same agg.
 */
const MISSING_FIELDS = [...new Set([...DIMENSIONS.filter((d) => !d.multi).map((d) => d.field), PROCESS_FIELD])];
const missingName = (field: string) => `missing ${field}`;

/**
 * The histogram step both time series are added up from: the request's interval, at most an hour. Every interval
 * is a whole number of steps and every hour a whole number of steps (or the step itself), and Elasticsearch's
 * fixed intervals start at the epoch, so each step falls in exactly one bucket of either series.
 */
export const seriesStep = (request: FlowsRequest): number => Math.min(INTERVALS[request.interval], HOUR_MS);

function termsOrder(d: Dimension): Agg[] {
  if (d.order === 'bytes') return [{ bytes: 'desc' }, { _key: 'asc' }];
  if (d.order === 'flows') return [{ _count: 'desc' }, { _key: 'asc' }];
  return [{ _count: 'asc' }, { _key: 'asc' }];
}

function dimensionAgg(d: Dimension): Agg {
  const sub: Agg = { ...SUMS };
  if (d.label) sub.label = { terms: { field: d.label, size: 1 } };
  if (d.firstSeen) sub.first_seen = { min: { field: 'event.start' } };
  return { terms: { field: d.field, size: TOP_BUCKETS, order: termsOrder(d) }, aggs: sub };
}

/**
 * Ranked charts aggregated beside the time series, the durations and the `missing` sums; the others make the
 * second search. Chosen so the two weigh about the same (each aggregation timed alone over 1 M flows).
 */
const WITH_SUMMARY: ReadonlySet<RankedName> = new Set(['rare_destinations', 'sources', 'tcp_flags']);

/** The charts' aggregations in two groups of about equal cost. */
export function flowsAggregationGroups(request: FlowsRequest): [Agg, Agg] {
  const summary: Agg = {
    series: { date_histogram: { field: '@timestamp', fixed_interval: `${seriesStep(request) / 1000}s`, min_doc_count: 1 }, aggs: SUMS },
    dns_resolved: { filter: { term: { 'provmon.flow.dns_resolved': true } } },
    durations: { range: { field: 'event.duration', keyed: false, ranges: DURATION_RANGES.map((r) => ({ key: r.key, from: r.from, ...(r.to !== undefined ? { to: r.to } : {}) })) } },
  };
  for (const field of MISSING_FIELDS) summary[missingName(field)] = { missing: { field }, aggs: SUMS };
  const charts: Agg = {};
  for (const d of DIMENSIONS) (WITH_SUMMARY.has(d.name) ? summary : charts)[d.name] = dimensionAgg(d);
  return [summary, charts];
}

/** The size-0 searches of the charts, one per group, over the flows the filter selects. */
export function flowsAggregationBodies(filter: FlowFilter, request: FlowsRequest): Agg[] {
  return flowsAggregationGroups(request).map((aggs) => ({
    index: FLOW_INDEX, size: 0, track_total_hits: false, ignore_unavailable: true, allow_no_indices: true, query: { bool: { filter: flowFilterClauses(filter) } }, aggs,
  }));
}

/** Top flows by a field, ties by event.id (the memory path sorts the same way). */
export function flowsHitsBody(filter: FlowFilter, field: string, size: number, source: string[]): Agg {
  return {
    index: FLOW_INDEX,
    size,
    track_total_hits: true,
    ignore_unavailable: true,
    allow_no_indices: true,
    query: { bool: { filter: flowFilterClauses(filter) } },
    sort: [{ [field]: { order: 'desc', missing: '_last', unmapped_type: 'long' } }, { 'event.id': { order: 'asc' } }],
    _source: source,
  };
}

interface ValueAgg {
  value: number | null;
}
interface BucketAgg {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
  bytes: ValueAgg;
  packets: ValueAgg;
  label?: { buckets: { key: string }[] };
  first_seen?: { value: number | null; value_as_string?: string };
}
interface TermsResult {
  buckets: BucketAgg[];
  sum_other_doc_count: number;
}
interface SumsResult {
  doc_count: number;
  bytes: ValueAgg;
  packets: ValueAgg;
}
interface SearchResponse {
  hits: { total?: { value: number } | number; hits: { _source: EcsEvent; fields?: Record<string, unknown[]> }[] };
  aggregations?: Record<string, unknown>;
}

const num = (v: ValueAgg | undefined) => v?.value ?? 0;

/** A scatter point's fields (flowBytes, flowPackets, the transport) as doc values. */
const SCATTER_FIELDS = ['provmon.flow.total.bytes', 'provmon.flow.total.packets', 'network.transport'] as const;

type Totals = FlowsAnswer['totals'];

function ranked(d: Dimension, r: TermsResult | undefined, withField: { bytes: number; packets: number }): Ranked {
  const buckets = (r?.buckets ?? []).map((b) => {
    const out: Bucket = { key: String(b.key), flows: b.doc_count, bytes: num(b.bytes), packets: num(b.packets) };
    if (d.label) out.label = b.label?.buckets[0]?.key ?? '';
    if (d.firstSeen && b.first_seen?.value !== null && b.first_seen?.value !== undefined) out.first_seen = new Date(b.first_seen.value).toISOString();
    return out;
  });
  const sum = (f: (b: Bucket) => number) => buckets.reduce((n, b) => n + f(b), 0);
  return {
    buckets,
    other: {
      flows: r?.sum_other_doc_count ?? 0,
      bytes: d.multi ? null : withField.bytes - sum((b) => b.bytes),
      packets: d.multi ? null : withField.packets - sum((b) => b.packets),
    },
  };
}

/** Steps added into the buckets of a series whose interval is a whole number of steps. */
function series(steps: TimePoint[], interval: number): TimePoint[] {
  const out: TimePoint[] = [];
  for (const s of steps) {
    const t = s.t - (s.t % interval);
    const last = out[out.length - 1];
    if (last?.t === t) {
      last.flows += s.flows;
      last.bytes += s.bytes;
      last.packets += s.packets;
    } else out.push({ ...s, t });
  }
  return out;
}

const hitsTotal = (r: SearchResponse) => (typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0));

/** The charts' part of the answer from the aggregations of both groups (absent when no flow index exists). */
export function chartsFromAggregations(a: Record<string, unknown>, request: FlowsRequest): Pick<FlowsAnswer, 'totals' | 'over_time' | 'hourly' | 'durations' | 'ranked'> {
  // date_histogram buckets come in time order
  const steps = ((a.series as { buckets?: BucketAgg[] } | undefined)?.buckets ?? []).map((b) => ({ t: Number(b.key), flows: b.doc_count, bytes: num(b.bytes), packets: num(b.packets) }));
  const totals: Totals = { flows: 0, bytes: 0, packets: 0, dns_resolved: (a.dns_resolved as SumsResult | undefined)?.doc_count ?? 0, with_process: 0 };
  for (const s of steps) {
    totals.flows += s.flows;
    totals.bytes += s.bytes;
    totals.packets += s.packets;
  }
  const missing = (field: string) => a[missingName(field)] as SumsResult | undefined;
  totals.with_process = totals.flows - (missing(PROCESS_FIELD)?.doc_count ?? 0);
  const withField = (field: string) => ({ bytes: totals.bytes - num(missing(field)?.bytes), packets: totals.packets - num(missing(field)?.packets) });
  return {
    totals,
    over_time: { interval: request.interval, points: series(steps, INTERVALS[request.interval]) },
    hourly: series(steps, HOUR_MS),
    durations: (((a.durations as { buckets?: unknown[] } | undefined)?.buckets ?? []) as { key: string; doc_count: number }[]).map((b) => ({ key: b.key, flows: b.doc_count })),
    ranked: Object.fromEntries(DIMENSIONS.map((d) => [d.name, ranked(d, a[d.name] as TermsResult | undefined, withField(d.field))])) as Record<RankedName, Ranked>,
  };
}

export async function esFlowsAnswer(client: AggregationClient, filter: FlowFilter, request: FlowsRequest, index = FLOW_INDEX): Promise<FlowsAnswer> {
  const search = (body: Agg) => (client.search as (p: Agg) => Promise<unknown>)({ ...body, index }) as Promise<SearchResponse>;
  const [scatter, table, ...charts] = await Promise.all([
    // The scatter's 10,000 points from doc values: no stored field is read (not even _id, whose decompression was
    // 2.4 s of 2.5 s over 1 M flows); whether there were more needs a count only up to one past them.
    search({
      ...flowsHitsBody(filter, TABLE_SORTS.bytes, SCATTER_POINTS, []),
      _source: false,
      stored_fields: '_none_',
      docvalue_fields: SCATTER_FIELDS,
      track_total_hits: SCATTER_POINTS + 1,
    }),
    search({ ...flowsHitsBody(filter, TABLE_SORTS[request.sort], TABLE_ROWS, ROW_FIELDS), track_total_hits: false }),
    ...flowsAggregationBodies(filter, request).map(search),
  ]);
  return {
    window: flowWindow(filter),
    ...chartsFromAggregations(Object.assign({}, ...charts.map((r) => r.aggregations ?? {})) as Record<string, unknown>, request),
    scatter: {
      points: scatter.hits.hits.map((h) => {
        const f = h.fields ?? {};
        const first = <T>(name: string, absent: T) => (f[name]?.[0] as T | undefined) ?? absent;
        return { bytes: first(SCATTER_FIELDS[0], 0), packets: first(SCATTER_FIELDS[1], 0), transport: first(SCATTER_FIELDS[2], '') };
      }),
      truncated: hitsTotal(scatter) > SCATTER_POINTS,
    },
    table: { sort: request.sort, rows: table.hits.hits.map((h) => flowRow(h._source)) },
    scan: { truncated: false, scanned: null },
  };
}
