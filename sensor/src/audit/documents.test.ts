import { describe, expect, test } from 'bun:test';
import { caseDocuments, EXPECTED_DOCUMENTS, linesByCase, snapshotCases } from './testdata/document-snapshot.ts';

describe('audit documents stay those of the reference snapshot', () => {
  const expected = linesByCase(EXPECTED_DOCUMENTS);
  test('the snapshot covers every case', () => {
    expect([...expected.keys()]).toEqual(snapshotCases().map((c) => c.name));
  });
  for (const c of snapshotCases()) {
    // 1 MiB chunks (a file read) and 61-byte chunks (an upload stream: every line straddles chunks)
    for (const chunkBytes of [1 << 20, 61]) {
      test(`${c.name}: documents and statistics byte for byte (chunks of ${chunkBytes} bytes)`, async () => {
        const actual = await caseDocuments(c, chunkBytes);
        const want = expected.get(c.name) ?? [];
        // line by line first, so a difference names its document
        for (let i = 0; i < Math.max(actual.length, want.length); i++) expect(actual[i]).toBe(want[i]!);
      });
    }
  }
});
