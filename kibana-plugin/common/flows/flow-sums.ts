/**
 * The summable part of a flows answer (totals, time series, durations, every ranked chart) as partial sums that
 * add up in any grouping: per minute (totals, series, durations) and per field value (flows, bytes, packets, the
 * earliest start, the first label). A flow document adds its own share (flowShare); the local store keeps the same
 * shares pre-added per hour in its index (event-index.ts), so a window reads its whole hours' sums plus the flows
 * of its two partial edges. One definition for both paths, so they cannot drift apart.
 */
import type { EcsEvent } from '../ecs.ts';
import { DIMENSIONS, DURATION_RANGES, HOUR_MS, INTERVALS, TOP_BUCKETS, flowBytes, flowPackets, getter, ipSortKey, type Bucket, type Dimension, type FlowsAnswer, type FlowsRequest, type Ranked, type RankedName, type TimePoint } from './answer.ts';
import { wholeMs } from './filter.ts';

export const MINUTE_MS = 60_000;

/** Every field a ranked chart counts by, once (two charts may share one), with the field that labels its values. */
export const KEY_FIELDS: readonly { field: string; label?: string }[] = [...new Map(DIMENSIONS.map((d) => [d.field, { field: d.field, ...(d.label ? { label: d.label } : {}) }])).values()];

/** One minute's sums; `durations` counts flows per DURATION_RANGES class. */
export interface MinuteSums {
  flows: number;
  bytes: number;
  packets: number;
  dns_resolved: number;
  with_process: number;
  durations: number[];
}

/** One field value's sums. */
export interface KeySums {
  flows: number;
  bytes: number;
  packets: number;
  /** earliest event.start (epoch ms) of its flows */
  firstSeen?: number;
  /** the label field's first value in the first flow (time order) with this value */
  label?: string;
}

/** What one flow adds: its minute, its sums, and per key field its distinct values. */
export interface FlowShare {
  minute: number;
  bytes: number;
  packets: number;
  dnsResolved: boolean;
  withProcess: boolean;
  /** DURATION_RANGES index, or -1 */
  duration: number;
  firstSeen?: number;
  /** per KEY_FIELDS entry (same order): the flow's distinct values as text, and the label when the field has one */
  keys: { values: string[]; label?: string }[];
}

const READERS = KEY_FIELDS.map((k) => ({ read: getter(k.field), label: k.label ? getter(k.label) : undefined }));

export function durationClass(duration: unknown): number {
  if (typeof duration !== 'number') return -1;
  return DURATION_RANGES.findIndex((r) => duration >= r.from && (r.to === undefined || duration < r.to));
}

export function flowShare(doc: EcsEvent): FlowShare {
  const t = wholeMs(doc['@timestamp']);
  const share: FlowShare = {
    minute: Math.floor(t / MINUTE_MS),
    bytes: flowBytes(doc),
    packets: flowPackets(doc),
    dnsResolved: doc.provmon?.flow?.dns_resolved === true,
    withProcess: doc.process?.entity_id !== undefined,
    duration: durationClass(doc.event.duration),
    keys: READERS.map((r) => {
      const raw = r.read(doc);
      const values = raw.length === 1 ? [String(raw[0])] : [...new Set(raw.map(String))];
      return r.label && values.length ? { values, label: String(r.label(doc)[0] ?? '') } : { values };
    }),
  };
  if (doc.event.start) share.firstSeen = wholeMs(doc.event.start);
  return share;
}

const emptyMinute = (): MinuteSums => ({ flows: 0, bytes: 0, packets: 0, dns_resolved: 0, with_process: 0, durations: DURATION_RANGES.map(() => 0) });

function compareKeys(d: Dimension): (a: string, b: string) => number {
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (d.numeric) return (a, b) => Number(a) - Number(b);
  if (d.ip) return (a, b) => text(ipSortKey(a), ipSortKey(b));
  return text;
}

function rank(d: Dimension, counts: Map<string, KeySums>): Ranked {
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
  const sum = (f: (a: KeySums) => number) => rest.reduce((n, [, a]) => n + f(a), 0);
  return { buckets, other: { flows: sum((a) => a.flows), bytes: d.multi ? null : sum((a) => a.bytes), packets: d.multi ? null : sum((a) => a.packets) } };
}

/**
 * Partial sums added together. Labels: the first one added for a value wins, so callers add in time order (flows
 * one by one in time order; pre-added sums hour by hour, each hour's label being its earliest flow's).
 */
export class FlowSums {
  private readonly minutes = new Map<number, MinuteSums>();
  private readonly keys = KEY_FIELDS.map(() => new Map<string, KeySums>());

  addFlow(s: FlowShare): void {
    let m = this.minutes.get(s.minute);
    if (!m) this.minutes.set(s.minute, (m = emptyMinute()));
    m.flows++;
    m.bytes += s.bytes;
    m.packets += s.packets;
    if (s.dnsResolved) m.dns_resolved++;
    if (s.withProcess) m.with_process++;
    if (s.duration >= 0) m.durations[s.duration]!++;
    for (let f = 0; f < s.keys.length; f++) {
      const k = s.keys[f]!;
      for (const v of k.values) this.addKey(f, v, 1, s.bytes, s.packets, s.firstSeen, k.label);
    }
  }

  addMinute(minute: number, add: MinuteSums): void {
    let m = this.minutes.get(minute);
    if (!m) this.minutes.set(minute, (m = emptyMinute()));
    m.flows += add.flows;
    m.bytes += add.bytes;
    m.packets += add.packets;
    m.dns_resolved += add.dns_resolved;
    m.with_process += add.with_process;
    for (let i = 0; i < m.durations.length; i++) m.durations[i]! += add.durations[i] ?? 0;
  }

  /** `field`: an index into KEY_FIELDS */
  addKey(field: number, key: string, flows: number, bytes: number, packets: number, firstSeen?: number, label?: string): void {
    const map = this.keys[field]!;
    let a = map.get(key);
    if (!a) map.set(key, (a = { flows: 0, bytes: 0, packets: 0 }));
    a.flows += flows;
    a.bytes += bytes;
    a.packets += packets;
    if (firstSeen !== undefined && (a.firstSeen === undefined || firstSeen < a.firstSeen)) a.firstSeen = firstSeen;
    if (label !== undefined && a.label === undefined) a.label = label;
  }

  answer(request: FlowsRequest): Pick<FlowsAnswer, 'totals' | 'over_time' | 'hourly' | 'durations' | 'ranked'> {
    const totals = { flows: 0, bytes: 0, packets: 0, dns_resolved: 0, with_process: 0 };
    const durations = DURATION_RANGES.map(() => 0);
    const overTime = new Map<number, TimePoint>();
    const hourly = new Map<number, TimePoint>();
    const interval = INTERVALS[request.interval];
    const into = (map: Map<number, TimePoint>, t: number, m: MinuteSums) => {
      let p = map.get(t);
      if (!p) map.set(t, (p = { t, flows: 0, bytes: 0, packets: 0 }));
      p.flows += m.flows;
      p.bytes += m.bytes;
      p.packets += m.packets;
    };
    for (const [minute, m] of this.minutes) {
      if (m.flows === 0) continue;
      totals.flows += m.flows;
      totals.bytes += m.bytes;
      totals.packets += m.packets;
      totals.dns_resolved += m.dns_resolved;
      totals.with_process += m.with_process;
      for (let i = 0; i < durations.length; i++) durations[i]! += m.durations[i]!;
      const t = minute * MINUTE_MS;
      // every interval is a whole number of minutes, so a minute falls in exactly one bucket
      into(overTime, t - (t % interval), m);
      into(hourly, t - (t % HOUR_MS), m);
    }
    const byTime = (m: Map<number, TimePoint>) => [...m.values()].sort((a, b) => a.t - b.t);
    const fieldOf = new Map(KEY_FIELDS.map((k, i) => [k.field, i]));
    return {
      totals,
      over_time: { interval: request.interval, points: byTime(overTime) },
      hourly: byTime(hourly),
      durations: DURATION_RANGES.map((r, i) => ({ key: r.key, flows: durations[i]! })),
      ranked: Object.fromEntries(DIMENSIONS.map((d) => [d.name, rank(d, this.keys[fieldOf.get(d.field)!]!)])) as Record<RankedName, Ranked>,
    };
  }
}
