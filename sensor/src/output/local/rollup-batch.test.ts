/** The writer's per-minute counts equal counting the rows one by one, however the rows' keys interleave. */
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventAction } from '../../../../kibana-plugin/common/ecs.ts';
import { makeEvent } from '../../../../test/support/events.ts';
import { pushIndexRow, ROLLUP_MINUTE_MS } from './event-index.ts';
import { ROW_FIELDS } from './index-protocol.ts';
import { IndexWriter } from './index-writer.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const ACTIONS: EventAction[] = ['open', 'read', 'write'];

describe('rollup counts of one transaction', () => {
  test('more distinct keys than the recent groups it compares first, interleaved over minutes and files: counts as if row by row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provmon-rollup-'));
    const writer = new IndexWriter(join(dir, 'index.sqlite'));
    try {
      const rows: unknown[] = [];
      const expected = new Map<string, number>();
      let offset = 0;
      for (let i = 0; i < 3000; i++) {
        // 20 processes × 3 actions, visited in an order that keeps revisiting old keys; a file switch mid-way
        const proc = (i * 7) % 20;
        const action = ACTIONS[(i * 5) % 3]!;
        const at = T0 + Math.floor(i / 1000) * ROLLUP_MINUTE_MS + (i % 1000);
        const fileId = i < 1500 ? 1 : 2;
        const doc = makeEvent('file', action, at, {
          process: { pid: 100 + proc, entity_id: `E${proc}`, name: proc % 2 ? 'odd' : 'even', parent: { pid: 1, entity_id: 'P' } },
          file: { path: `/data/f${proc}` },
        });
        pushIndexRow(rows, doc, 0, { fileId, offset, length: 10 });
        offset = fileId === 1 && i === 1499 ? 0 : offset + 11;
        const k = `${fileId}|${Math.floor(at / ROLLUP_MINUTE_MS)}|${action}|E${proc}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      expect(writer.insertRows(rows, rows.length / ROW_FIELDS)).toBe(3000);
      const got = new Map(
        writer.db
          .query<{ k: string; n: number }, []>("SELECT file_id || '|' || minute || '|' || action || '|' || entity_id AS k, n FROM rollup")
          .all()
          .map((r) => [r.k, r.n] as const),
      );
      expect(expected.size).toBe(4 * 60); // 60 (process, action) pairs in each of file 1's minutes 0-1 and file 2's minutes 1-2
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    } finally {
      writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
