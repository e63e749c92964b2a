/**
 * The writer's side of `flow_minutes` and `flow_keys` (event-index.ts): one transaction's final flow reports summed
 * per file and minute, and per file, hour and key field value (common/flows/flow-sums.ts' shares), then added to the
 * tables' rows in one upsert per group.
 */
import type { Database, Statement } from 'bun:sqlite';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { DURATION_RANGES } from '../../../../kibana-plugin/common/flows/answer.ts';
import { MINUTE_MS, flowShare } from '../../../../kibana-plugin/common/flows/flow-sums.ts';
import { DURATION_COLUMNS, FLOW_KEY_HOUR_MS } from './event-index.ts';

interface MinuteGroup {
  key: [number, number, number];
  sums: number[];
}

interface KeyGroup {
  key: [number, number, number, number, string];
  flows: number;
  bytes: number;
  packets: number;
  firstSeen: number | null;
  label: string | null;
  /** (ts, seq, event.id) of the flow the label comes from: the earliest wins */
  order: [number, number, string] | null;
}

const earlier = (a: [number, number, string], b: [number, number, string]) => a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])));

/** The upserts, prepared once per connection. */
export function prepareFlowRollup(db: Database): { minutes: Statement; keys: Statement } {
  const minuteSums = ['flows', 'bytes', 'packets', 'dns_resolved', 'with_process', ...DURATION_COLUMNS];
  const minutes = db.prepare(
    `INSERT INTO flow_minutes (stream, file_id, minute, ${minuteSums.join(', ')}) VALUES (${new Array(minuteSums.length + 3).fill('?').join(',')}) ` +
      `ON CONFLICT DO UPDATE SET ${minuteSums.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
  );
  const newer = '(excluded.label_ts, excluded.label_seq, excluded.label_eid) < (label_ts, label_seq, label_eid)';
  const takeLabel = `excluded.label IS NOT NULL AND (label IS NULL OR ${newer})`;
  const keys = db.prepare(
    'INSERT INTO flow_keys (stream, file_id, hour, field, key, flows, bytes, packets, first_seen, label, label_ts, label_seq, label_eid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ' +
      'ON CONFLICT DO UPDATE SET flows = flows + excluded.flows, bytes = bytes + excluded.bytes, packets = packets + excluded.packets, ' +
      'first_seen = CASE WHEN excluded.first_seen IS NOT NULL AND (first_seen IS NULL OR excluded.first_seen < first_seen) THEN excluded.first_seen ELSE first_seen END, ' +
      ['label', 'label_ts', 'label_seq', 'label_eid'].map((c) => `${c} = CASE WHEN ${takeLabel} THEN excluded.${c} ELSE ${c} END`).join(', '),
  );
  return { minutes, keys };
}

export class FlowRollupBatch {
  private readonly minutes = new Map<string, MinuteGroup>();
  private readonly keys = new Map<string, KeyGroup>();

  /** One final flow report that was inserted (`doc`: its FLOW_DOC_FIELDS document). */
  add(stream: number, fileId: number, ts: number, seq: number, eventId: string, doc: EcsEvent): void {
    const s = flowShare(doc);
    const mk = `${stream}:${fileId}:${s.minute}`;
    let m = this.minutes.get(mk);
    if (!m) this.minutes.set(mk, (m = { key: [stream, fileId, s.minute], sums: new Array(5 + DURATION_RANGES.length).fill(0) }));
    m.sums[0]!++;
    m.sums[1]! += s.bytes;
    m.sums[2]! += s.packets;
    if (s.dnsResolved) m.sums[3]!++;
    if (s.withProcess) m.sums[4]!++;
    if (s.duration >= 0) m.sums[5 + s.duration]!++;
    const hour = Math.floor((s.minute * MINUTE_MS) / FLOW_KEY_HOUR_MS);
    s.keys.forEach((k, field) => {
      for (const value of k.values) {
        const kk = `${stream}:${fileId}:${hour}:${field}:${value}`;
        let g = this.keys.get(kk);
        if (!g) this.keys.set(kk, (g = { key: [stream, fileId, hour, field, value], flows: 0, bytes: 0, packets: 0, firstSeen: null, label: null, order: null }));
        g.flows++;
        g.bytes += s.bytes;
        g.packets += s.packets;
        if (s.firstSeen !== undefined && (g.firstSeen === null || s.firstSeen < g.firstSeen)) g.firstSeen = s.firstSeen;
        if (k.label !== undefined) {
          const order: [number, number, string] = [ts, seq, eventId];
          if (g.order === null || earlier(order, g.order)) (g.label = k.label), (g.order = order);
        }
      }
    });
  }

  /** Adds the batch to the tables (inside the caller's transaction). */
  write(statements: { minutes: Statement; keys: Statement }): void {
    for (const m of this.minutes.values()) statements.minutes.run(...m.key, ...m.sums);
    for (const g of this.keys.values()) statements.keys.run(...g.key, g.flows, g.bytes, g.packets, g.firstSeen, g.label, ...(g.order ?? [null, null, null]));
  }
}
