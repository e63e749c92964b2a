/** Documents appended as JSON lines: the file holds exactly JSON.stringify's bytes, and each location finds its line. */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shareDocumentPart } from '../../model/document-json.ts';
import { build } from '../../model/testdata/session.ts';
import { JsonlWriter, type LineLocation } from './jsonl-writer.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function writer(bufferBytes: number, rotateBytes = 1 << 30): JsonlWriter {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-jsonl-'));
  dirs.push(dir);
  return new JsonlWriter({ dir, base: 'events', rotateBytes, maxFiles: 100, bufferBytes });
}

function lineAt(w: JsonlWriter, at: LineLocation): string {
  return readFileSync(w.pathOf(at.fileId)!).subarray(at.offset, at.offset + at.length).toString('utf8');
}

describe('appendDocument', () => {
  test('through buffer refills, rotations and a document larger than the buffer, every line is JSON.stringify of its document', () => {
    const big = { ...build()[0]!, provmon: { note: 'ü'.repeat(3000) } };
    const docs = [...build(), big, ...build(), { host: shareDocumentPart({ name: 'é' }), event: { id: 'last' } }];
    const w = writer(2048, 16 * 1024);
    const locations = docs.map((d) => w.appendDocument(d)!);
    expect(w.flush()).toBe(true);
    expect(w.rotatedIds.length).toBeGreaterThan(0);
    for (let i = 0; i < docs.length; i++) expect(lineAt(w, locations[i]!)).toBe(JSON.stringify(docs[i]));
    const all = [...w.rotatedIds.map((id) => w.rotatedPath(id)), w.livePath()].map((p) => readFileSync(p, 'utf8')).join('');
    expect(all).toBe(docs.map((d) => `${JSON.stringify(d)}\n`).join(''));
    w.close();
    expect(readdirSync(join(w.livePath(), '..')).length).toBe(w.rotatedIds.length + 1);
  });
});
