import { describe, expect, test } from 'bun:test';
import { parseFields, parseRecordLine } from './record.ts';
import { AuditLogReader } from './reader.ts';
import { mutatedLines } from './testdata/mutate.ts';

describe('audit parser fuzz', () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`mutated lines never throw, and every document keeps the contract (seed ${seed})`, async () => {
      const lines = mutatedLines(seed * 7919, 4000);
      for (const line of lines) {
        const rec = parseRecordLine(line);
        if (rec) expect(Number.isFinite(rec.timeMs) && Number.isInteger(rec.serial)).toBe(true);
      }
      let docs = 0;
      const reader = new AuditLogReader({
        host: { id: 'f'.repeat(32), name: 'fuzz', bootTimeMs: 0 },
        namespace: 'fuzz',
        group: { maxOpen: 64 },
        onDocument: (d) => {
          docs++;
          expect(d.event.dataset.startsWith('provmon.')).toBe(true);
          expect(typeof d.event.id).toBe('string');
          expect(Number.isNaN(Date.parse(d['@timestamp']))).toBe(false);
          if (d.process) expect(d.process.entity_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
        },
      });
      await reader.read({ name: 'fuzz', chunks: [new TextEncoder().encode(lines.join('\n'))] });
      const stats = reader.finish();
      expect(stats.lines).toBe(lines.join('\n').split('\n').length);
      expect(stats.records + stats.not_audit_lines).toBeLessThanOrEqual(stats.lines);
      expect(stats.conversion.documents).toBe(docs);
    });
  }

  test('field parsing is safe against prototype keys', () => {
    const f = parseFields('__proto__=1 constructor="x" toString=2');
    expect(Object.entries(f)).toContainEqual(['constructor', '"x"']);
    expect(Object.getPrototypeOf(f)).toBeNull();
  });
});
