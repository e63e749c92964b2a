/**
 * The flows answer from Elasticsearch aggregations: one size-0 search for the charts (terms, date_histogram,
 * range, filter), one for the scatter points and one for the table, run together. Sums are over the final
 * reports' `provmon.flow.total.*` (see filter.ts). Truncation is reported: each ranked chart's `other` comes from
 * `sum_other_doc_count` and an exists filter over the same field.
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

function termsOrder(d: Dimension): Agg[] {
  if (d.order === 'bytes') return [{ bytes: 'desc' }, { _key: 'asc' }];
  if (d.order === 'flows') return [{ _count: 'desc' }, { _key: 'asc' }];
  return [{ _count: 'asc' }, { _key: 'asc' }];
}

function dimensionAgg(d: Dimension): Agg {
  const sub: Agg = { ...SUMS };
  if (d.label) sub.label = { terms: { field: d.label, size: 1 } };
  if (d.firstSeen) sub.first_seen = { min: { field: 'event.start' } };
  return {
    filter: { exists: { field: d.field } },
    aggs: { ...SUMS, top: { terms: { field: d.field, size: TOP_BUCKETS, order: termsOrder(d) }, aggs: sub } },
  };
}

export function flowsAggregationBody(filter: FlowFilter, request: FlowsRequest): Agg {
  const aggs: Agg = {
    ...SUMS,
    dns_resolved: { filter: { term: { 'provmon.flow.dns_resolved': true } } },
    with_process: { filter: { exists: { field: 'process.entity_id' } } },
    over_time: { date_histogram: { field: '@timestamp', fixed_interval: `${INTERVALS[request.interval] / 1000}s`, min_doc_count: 1 }, aggs: SUMS },
    hourly: { date_histogram: { field: '@timestamp', fixed_interval: `${HOUR_MS / 1000}s`, min_doc_count: 1 }, aggs: SUMS },
    durations: { range: { field: 'event.duration', keyed: false, ranges: DURATION_RANGES.map((r) => ({ key: r.key, from: r.from, ...(r.to !== undefined ? { to: r.to } : {}) })) } },
  };
  for (const d of DIMENSIONS) aggs[d.name] = dimensionAgg(d);
  return { index: FLOW_INDEX, size: 0, track_total_hits: true, ignore_unavailable: true, allow_no_indices: true, query: { bool: { filter: flowFilterClauses(filter) } }, aggs };
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
interface DimensionResult {
  doc_count: number;
  bytes: ValueAgg;
  packets: ValueAgg;
  top: { buckets: BucketAgg[]; sum_other_doc_count: number };
}
interface SearchResponse {
  hits: { total: { value: number } | number; hits: { _source: EcsEvent; fields?: Record<string, unknown[]> }[] };
  aggregations?: Record<string, unknown>;
}

const num = (v: ValueAgg | undefined) => v?.value ?? 0;

/** A scatter point's fields (flowBytes, flowPackets, the transport) as doc values. */
const SCATTER_FIELDS = ['provmon.flow.total.bytes', 'provmon.flow.total.packets', 'network.transport'] as const;

function ranked(d: Dimension, r: DimensionResult): Ranked {
  const buckets = r.top.buckets.map((b) => {
    const out: Bucket = { key: String(b.key), flows: b.doc_count, bytes: num(b.bytes), packets: num(b.packets) };
    if (d.label) out.label = b.label?.buckets[0]?.key ?? '';
    if (d.firstSeen && b.first_seen?.value !== null && b.first_seen?.value !== undefined) out.first_seen = new Date(b.first_seen.value).toISOString();
    return out;
  });
  const sum = (f: (b: Bucket) => number) => buckets.reduce((n, b) => n + f(b), 0);
  return {
    buckets,
    other: {
      flows: r.top.sum_other_doc_count,
      bytes: d.multi ? null : num(r.bytes) - sum((b) => b.bytes),
      packets: d.multi ? null : num(r.packets) - sum((b) => b.packets),
    },
  };
}

const points = (buckets: BucketAgg[]): TimePoint[] =>
  buckets.map((b) => ({ t: Number(b.key), flows: b.doc_count, bytes: num(b.bytes), packets: num(b.packets) }));

const total = (r: SearchResponse) => (typeof r.hits.total === 'number' ? r.hits.total : r.hits.total.value);

export async function esFlowsAnswer(client: AggregationClient, filter: FlowFilter, request: FlowsRequest, index = FLOW_INDEX): Promise<FlowsAnswer> {
  const search = (body: Agg) => (client.search as (p: Agg) => Promise<unknown>)({ ...body, index }) as Promise<SearchResponse>;
  const [aggs, scatter, table] = await Promise.all([
    search(flowsAggregationBody(filter, request)),
    // The scatter's 10,000 points from doc values, not _source (loading that many sources was most of its cost);
    // whether there were more needs a count only up to one past them.
    search({
      ...flowsHitsBody(filter, TABLE_SORTS.bytes, SCATTER_POINTS, []),
      _source: false,
      docvalue_fields: SCATTER_FIELDS,
      track_total_hits: SCATTER_POINTS + 1,
    }),
    search({ ...flowsHitsBody(filter, TABLE_SORTS[request.sort], TABLE_ROWS, ROW_FIELDS), track_total_hits: false }),
  ]);
  const a = (aggs.aggregations ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const flows = total(aggs);
  return {
    window: flowWindow(filter),
    totals: { flows, bytes: num(a.bytes), packets: num(a.packets), dns_resolved: a.dns_resolved?.doc_count ?? 0, with_process: a.with_process?.doc_count ?? 0 },
    over_time: { interval: request.interval, points: points(a.over_time?.buckets ?? []) },
    hourly: points(a.hourly?.buckets ?? []),
    durations: ((a.durations?.buckets ?? []) as { key: string; doc_count: number }[]).map((b) => ({ key: b.key, flows: b.doc_count })),
    ranked: Object.fromEntries(
      DIMENSIONS.map((d) => [d.name, a[d.name] ? ranked(d, a[d.name] as DimensionResult) : { buckets: [], other: { flows: 0, bytes: d.multi ? null : 0, packets: d.multi ? null : 0 } }]),
    ) as Record<RankedName, Ranked>,
    scatter: {
      points: scatter.hits.hits.map((h) => {
        const f = h.fields ?? {};
        const first = <T>(name: string, absent: T) => (f[name]?.[0] as T | undefined) ?? absent;
        return { bytes: first(SCATTER_FIELDS[0], 0), packets: first(SCATTER_FIELDS[1], 0), transport: first(SCATTER_FIELDS[2], '') };
      }),
      truncated: total(scatter) > SCATTER_POINTS,
    },
    table: { sort: request.sort, rows: table.hits.hits.map((h) => flowRow(h._source)) },
    scan: { truncated: false, scanned: null },
  };
}
