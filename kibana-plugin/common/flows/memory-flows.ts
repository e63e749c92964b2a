/**
 * The flows answer computed from flow documents one by one (the local store's path): the same dimensions and
 * orders as the Elasticsearch aggregations in es-flows.ts, held to the same numbers by flows-conformance.es.test.ts.
 */
import type { EcsEvent } from '../ecs.ts';
import {
  DIMENSIONS, DURATION_RANGES, HOUR_MS, INTERVALS, SCATTER_POINTS, TABLE_ROWS, TABLE_SORTS, TOP_BUCKETS, flowBytes, flowPackets, flowRow, getter, ipSortKey, valuesOf,
  type Bucket, type Dimension, type FlowsAnswer, type FlowsRequest, type Ranked, type RankedName, type TimePoint,
} from './answer.ts';
import { wholeMs, type FlowFilter } from './filter.ts';

interface Acc {
  flows: number;
  bytes: number;
  packets: number;
  label?: string;
  firstSeen?: number;
}

const add = (map: Map<string, Acc>, key: string, bytes: number, packets: number): Acc => {
  let a = map.get(key);
  if (!a) map.set(key, (a = { flows: 0, bytes: 0, packets: 0 }));
  a.flows++;
  a.bytes += bytes;
  a.packets += packets;
  return a;
};

function compareKeys(d: Dimension): (a: string, b: string) => number {
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (d.numeric) return (a, b) => Number(a) - Number(b);
  if (d.ip) return (a, b) => text(ipSortKey(a), ipSortKey(b));
  return text;
}

function rank(d: Dimension, counts: Map<string, Acc>): Ranked {
  const byKey = compareKeys(d);
  const entries = [...counts];
  entries.sort((x, y) => {
    const [ka, a] = x;
    const [kb, b] = y;
    const primary = d.order === 'bytes' ? b.bytes - a.bytes : d.order === 'flows' ? b.flows - a.flows : a.flows - b.flows;
    return primary || byKey(ka, kb);
  });
  const buckets: Bucket[] = entries.slice(0, TOP_BUCKETS).map(([key, a]) => {
    const b: Bucket = { key, flows: a.flows, bytes: a.bytes, packets: a.packets };
    if (d.label) b.label = a.label ?? '';
    if (d.firstSeen && a.firstSeen !== undefined) b.first_seen = new Date(a.firstSeen).toISOString();
    return b;
  });
  const rest = entries.slice(TOP_BUCKETS);
  const sum = (f: (a: Acc) => number) => rest.reduce((n, [, a]) => n + f(a), 0);
  return { buckets, other: { flows: sum((a) => a.flows), bytes: d.multi ? null : sum((a) => a.bytes), packets: d.multi ? null : sum((a) => a.packets) } };
}

function histogram(map: Map<number, TimePoint>, t: number, bytes: number, packets: number): void {
  let p = map.get(t);
  if (!p) map.set(t, (p = { t, flows: 0, bytes: 0, packets: 0 }));
  p.flows++;
  p.bytes += bytes;
  p.packets += packets;
}

/** Each dimension with its field readers made once. */
const READERS = DIMENSIONS.map((d) => ({ ...d, read: getter(d.field), label: d.label ? getter(d.label) : undefined }));

export class FlowAccumulator {
  private readonly counts = new Map<RankedName, Map<string, Acc>>(DIMENSIONS.map((d) => [d.name, new Map()]));
  private readonly overTime = new Map<number, TimePoint>();
  private readonly hourly = new Map<number, TimePoint>();
  private readonly durations = DURATION_RANGES.map(() => 0);
  private readonly totals = { flows: 0, bytes: 0, packets: 0, dns_resolved: 0, with_process: 0 };
  /** the largest flows so far as the scatter plot needs them: at most 2 × SCATTER_POINTS held (memory bounded) */
  private points: Ranking[] = [];
  private flowsSeen = 0;
  /** the table's rows so far, best first, at most TABLE_ROWS */
  private readonly table: { rank: Ranking; doc: EcsEvent }[] = [];
  private readonly intervalMs: number;
  private readonly sortValue: (d: EcsEvent) => number;

  constructor(private readonly filter: FlowFilter, private readonly request: FlowsRequest) {
    this.intervalMs = INTERVALS[request.interval];
    this.sortValue = sortValue(request.sort);
  }

  add(doc: EcsEvent): void {
    const bytes = flowBytes(doc);
    const packets = flowPackets(doc);
    const t = wholeMs(doc['@timestamp']);
    this.totals.flows++;
    this.totals.bytes += bytes;
    this.totals.packets += packets;
    if (doc.provmon?.flow?.dns_resolved === true) this.totals.dns_resolved++;
    if (doc.process?.entity_id !== undefined) this.totals.with_process++;
    histogram(this.overTime, t - (t % this.intervalMs), bytes, packets);
    histogram(this.hourly, t - (t % HOUR_MS), bytes, packets);
    const duration = doc.event.duration;
    if (typeof duration === 'number') {
      const i = DURATION_RANGES.findIndex((r) => duration >= r.from && (r.to === undefined || duration < r.to));
      if (i >= 0) this.durations[i]!++;
    }
    for (const d of READERS) {
      const map = this.counts.get(d.name)!;
      const values = d.read(doc);
      if (values.length === 1) this.count(d, map, String(values[0]), doc, bytes, packets);
      else if (values.length > 1) for (const v of new Set(values.map(String))) this.count(d, map, v, doc, bytes, packets);
    }
    this.flowsSeen++;
    this.points.push({ value: bytes, id: doc.event.id, bytes, packets, transport: doc.network?.transport ?? '' });
    if (this.points.length >= 2 * SCATTER_POINTS) this.points = this.points.sort(compareRankings).slice(0, SCATTER_POINTS);
    this.keepForTable(doc);
  }

  private count(d: (typeof READERS)[number], map: Map<string, Acc>, v: string, doc: EcsEvent, bytes: number, packets: number): void {
    const a = add(map, v, bytes, packets);
    if (d.label && a.label === undefined) a.label = String(d.label(doc)[0] ?? '');
    if (d.firstSeen && doc.event.start) {
      const s = wholeMs(doc.event.start);
      if (a.firstSeen === undefined || s < a.firstSeen) a.firstSeen = s;
    }
  }

  private keepForTable(doc: EcsEvent): void {
    const rank: Ranking = { value: this.sortValue(doc), id: doc.event.id, bytes: 0, packets: 0, transport: '' };
    const t = this.table;
    if (t.length === TABLE_ROWS && compareRankings(rank, t[t.length - 1]!.rank) >= 0) return;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRankings(t[mid]!.rank, rank) <= 0) lo = mid + 1;
      else hi = mid;
    }
    t.splice(lo, 0, { rank, doc });
    if (t.length > TABLE_ROWS) t.pop();
  }

  answer(): Omit<FlowsAnswer, 'scan'> {
    const ranked = Object.fromEntries(DIMENSIONS.map((d) => [d.name, rank(d, this.counts.get(d.name)!)])) as Record<RankedName, Ranked>;
    const byTime = (m: Map<number, TimePoint>) => [...m.values()].sort((a, b) => a.t - b.t);
    return {
      window: { ...(this.filter.from ? { from: this.filter.from } : {}), ...(this.filter.to ? { to: this.filter.to } : {}) },
      totals: this.totals,
      over_time: { interval: this.request.interval, points: byTime(this.overTime) },
      hourly: byTime(this.hourly),
      durations: DURATION_RANGES.map((r, i) => ({ key: r.key, flows: this.durations[i]! })),
      ranked,
      scatter: {
        points: [...this.points].sort(compareRankings).slice(0, SCATTER_POINTS).map(({ bytes, packets, transport }) => ({ bytes, packets, transport })),
        truncated: this.flowsSeen > SCATTER_POINTS,
      },
      table: { sort: this.request.sort, rows: this.table.map((r) => flowRow(r.doc)) },
    };
  }
}

interface Ranking {
  value: number;
  id: string;
  bytes: number;
  packets: number;
  transport: string;
}

/** Largest value first, ties by event.id: the order of Elasticsearch's sort [{field: desc}, {event.id: asc}]. */
function compareRankings(a: Ranking, b: Ranking): number {
  if (a.value !== b.value) return b.value > a.value ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sortValue(sort: FlowsRequest['sort']): (d: EcsEvent) => number {
  const field = TABLE_SORTS[sort];
  // A flow without the sort field sorts last, as Elasticsearch's `missing: _last` does.
  return (d) => {
    const v = valuesOf(d, field)[0];
    return typeof v === 'number' ? v : -Infinity;
  };
}
