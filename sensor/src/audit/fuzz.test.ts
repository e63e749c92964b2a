import { describe, expect, test } from 'bun:test';
import { parseFields, parseRecordLine } from './record.ts';
import { AuditLogReader } from './reader.ts';
import { debianCurl, rhel7Files, rhelEnriched, splitExecve, syslogKernel } from './testdata/samples.ts';

/** A small deterministic PRNG (xorshift32): failures reproduce from the seed printed in the test name. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const corpus = [...debianCurl(), ...rhelEnriched(), ...rhel7Files(), ...syslogKernel(), ...splitExecve()];
const alphabet = ' =:"\'()\x1d\n\tabcdefxyzAF0123456789-.[]/';

function mutate(line: string, r: () => number): string {
  let s = line;
  const edits = 1 + Math.floor(r() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const op = r();
    if (op < 0.3) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
    else if (op < 0.6) s = s.slice(0, at) + alphabet[Math.floor(r() * alphabet.length)] + s.slice(at);
    else if (op < 0.8) s = s.slice(0, at);
    else s = s.slice(0, at) + s.slice(Math.floor(r() * s.length));
  }
  return s;
}

describe('audit parser fuzz', () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`mutated lines never throw, and every document keeps the contract (seed ${seed})`, async () => {
      const r = rng(seed * 7919);
      const lines: string[] = [];
      for (let i = 0; i < 4000; i++) lines.push(mutate(corpus[Math.floor(r() * corpus.length)]!, r));
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
