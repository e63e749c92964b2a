/**
 * What GET /api/provmon/flows answers, and the chart definitions both stores compute it from (Elasticsearch
 * aggregations in es-flows.ts, the local store's documents in memory-flows.ts): one list of dimensions, so the
 * two cannot drift apart. Every ranked chart reports what it left out (`other`), never hides it.
 */
import type { EcsEvent } from '../ecs.ts';

export const TOP_BUCKETS = 20;
export const TABLE_ROWS = 100;
/** the seed drew every flow of the range, up to 10 K */
export const SCATTER_POINTS = 10_000;

export const INTERVALS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type IntervalName = keyof typeof INTERVALS;
export const HOUR_MS = 3_600_000;

export const TABLE_SORTS = { bytes: 'provmon.flow.total.bytes', packets: 'provmon.flow.total.packets', duration: 'event.duration' } as const;
export type TableSort = keyof typeof TABLE_SORTS;

/** Flow duration classes, in nanoseconds (event.duration), `to` exclusive. */
export const DURATION_RANGES: readonly { key: string; from: number; to?: number }[] = [
  { key: '< 1 ms', from: 0, to: 1e6 },
  { key: '1–10 ms', from: 1e6, to: 1e7 },
  { key: '10–100 ms', from: 1e7, to: 1e8 },
  { key: '0.1–1 s', from: 1e8, to: 1e9 },
  { key: '1–10 s', from: 1e9, to: 1e10 },
  { key: '10–60 s', from: 1e10, to: 6e10 },
  { key: '1–10 min', from: 6e10, to: 6e11 },
  { key: '≥ 10 min', from: 6e11 },
];

export type RankedName = 'protocols' | 'sources' | 'destinations' | 'ports_by_flows' | 'ports_by_bytes' | 'tcp_flags' | 'domains' | 'processes' | 'rare_destinations';

export interface Dimension {
  name: RankedName;
  field: string;
  /** flows / bytes: most first; rare: fewest flows first (new or rare destinations) */
  order: 'flows' | 'bytes' | 'rare';
  numeric?: boolean;
  /** an ip field: Elasticsearch orders its keys by their 16-byte form (IPv4 mapped into IPv6) */
  ip?: boolean;
  /** several values per flow (a flow counts once in each): `other` has no byte figures then */
  multi?: boolean;
  /** a field whose first value labels the bucket (a process entity id is labelled with its name) */
  label?: string;
  /** each bucket says when its first flow started */
  firstSeen?: boolean;
}

export const DIMENSIONS: readonly Dimension[] = [
  { name: 'protocols', field: 'network.transport', order: 'flows' },
  { name: 'sources', field: 'source.ip', order: 'bytes', ip: true },
  { name: 'destinations', field: 'destination.ip', order: 'bytes', ip: true },
  { name: 'ports_by_flows', field: 'destination.port', order: 'flows', numeric: true },
  { name: 'ports_by_bytes', field: 'destination.port', order: 'bytes', numeric: true },
  { name: 'tcp_flags', field: 'provmon.flow.tcp_flags', order: 'flows', multi: true },
  { name: 'domains', field: 'destination.domain', order: 'bytes' },
  { name: 'processes', field: 'process.entity_id', order: 'bytes', label: 'process.name' },
  { name: 'rare_destinations', field: 'destination.ip', order: 'rare', firstSeen: true, ip: true },
];

export interface Bucket {
  key: string;
  flows: number;
  bytes: number;
  packets: number;
  label?: string;
  first_seen?: string;
}

export interface Ranked {
  buckets: Bucket[];
  /** flows (and, for single-valued fields, bytes and packets) of the values beyond the top buckets */
  other: { flows: number; bytes: number | null; packets: number | null };
}

export interface TimePoint {
  t: number;
  flows: number;
  bytes: number;
  packets: number;
}

export interface FlowRow {
  id: string;
  flow_id?: string;
  host?: string;
  start?: string;
  end: string;
  duration_ns: number | null;
  transport?: string;
  source: string;
  destination: string;
  domain?: string;
  bytes: number;
  packets: number;
  state?: string;
  process?: string;
  entity_id?: string;
}

export interface FlowsAnswer {
  window: { from?: string; to?: string };
  totals: { flows: number; bytes: number; packets: number; dns_resolved: number; with_process: number };
  over_time: { interval: IntervalName; points: TimePoint[] };
  /** hourly sums, drawn as a day × hour-of-day heatmap */
  hourly: TimePoint[];
  durations: { key: string; flows: number }[];
  ranked: Record<RankedName, Ranked>;
  scatter: { points: { bytes: number; packets: number; transport: string }[]; truncated: boolean };
  table: { sort: TableSort; rows: FlowRow[] };
  /** the local store reads flows one by one up to a bound; Elasticsearch aggregates them all (never truncated) */
  scan: { truncated: boolean; scanned: number | null };
}

/** The window an answer states: the filter's bounds, as given. */
export const flowWindow = (f: { from?: string; to?: string }): FlowsAnswer['window'] => ({ ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) });

export interface FlowsRequest {
  interval: IntervalName;
  sort: TableSort;
}

/** An address as 32 hex digits of its IPv6 form (IPv4 as ::ffff:a.b.c.d): sorts as Elasticsearch sorts ip keys. */
export function ipSortKey(ip: string): string {
  const hex4 = (v4: string) => v4.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  if (!ip.includes(':')) return `00000000000000000000ffff${hex4(ip)}`;
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const h = hex4(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${h.slice(0, 4)}:${h.slice(4)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.map((g) => g.padStart(4, '0')).join('');
}

/** A field's values in a document, by dotted path (arrays flattened). */
export function valuesOf(doc: unknown, path: string): unknown[] {
  return getter(path)(doc);
}

/** A reader of one dotted path, with the path split once (the local store's aggregation calls it per flow). */
export function getter(path: string): (doc: unknown) => unknown[] {
  const parts = path.split('.');
  return (doc) => {
    let cur: unknown = doc;
    for (const part of parts) {
      if (cur === null || cur === undefined || typeof cur !== 'object') return [];
      cur = (cur as Record<string, unknown>)[part];
    }
    if (cur === undefined || cur === null) return [];
    return Array.isArray(cur) ? cur : [cur];
  };
}


const endpoint = (ip?: string, port?: number) => (ip === undefined ? '' : port === undefined ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export function flowBytes(doc: EcsEvent): number {
  return doc.provmon?.flow?.total?.bytes ?? 0;
}

export function flowPackets(doc: EcsEvent): number {
  return doc.provmon?.flow?.total?.packets ?? 0;
}

export function flowRow(doc: EcsEvent): FlowRow {
  const f = doc.provmon?.flow;
  const row: FlowRow = {
    id: doc.event.id,
    end: doc['@timestamp'],
    duration_ns: doc.event.duration ?? null,
    source: endpoint(doc.source?.ip, doc.source?.port),
    destination: endpoint(doc.destination?.ip, doc.destination?.port),
    bytes: flowBytes(doc),
    packets: flowPackets(doc),
  };
  if (f?.id) row.flow_id = f.id;
  if (doc.host?.name) row.host = doc.host.name;
  if (doc.event.start) row.start = doc.event.start;
  if (doc.network?.transport) row.transport = doc.network.transport;
  if (doc.destination?.domain) row.domain = doc.destination.domain;
  if (f?.state) row.state = f.state;
  if (doc.process?.name) row.process = doc.process.name;
  if (doc.process?.entity_id) row.entity_id = doc.process.entity_id;
  return row;
}

/** Source fields a table row or scatter point needs (Elasticsearch `_source` includes). */
export const ROW_FIELDS = [
  '@timestamp', 'event.id', 'event.start', 'event.duration', 'host.name', 'network.transport', 'source.ip', 'source.port',
  'destination.ip', 'destination.port', 'destination.domain', 'provmon.flow', 'process.name', 'process.entity_id',
];

/**
 * Every field a flows answer reads from a final flow report: what the filter compares (filter.ts), every
 * dimension, and a table row or scatter point. The local store keeps these, and only these, per flow in its index.
 */
export const FLOW_DOC_FIELDS = [
  ...new Set([
    ...ROW_FIELDS, 'event.dataset', 'data_stream.dataset', 'source.domain',
    ...DIMENSIONS.flatMap((d) => [d.field, ...(d.label ? [d.label] : [])]),
  ]),
];
