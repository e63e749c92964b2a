import { describe, expect, test } from 'bun:test';
import { linesByCase } from '../audit/testdata/document-snapshot.ts';
import { ANALYSIS_CASES, analysisLines, EXPECTED_ANALYSIS } from './testdata/analysis-snapshot.ts';

describe('an offline analysis writes the case of the reference snapshot', () => {
  const expected = linesByCase(EXPECTED_ANALYSIS);

  for (const name of ANALYSIS_CASES) {
    test(`${name}: summary and documents byte for byte, in order`, async () => {
      const actual = await analysisLines(name);
      const want = expected.get(name) ?? [];
      expect(want.length).toBeGreaterThan(1);
      for (let i = 0; i < Math.max(actual.length, want.length); i++) expect(actual[i]).toBe(want[i]!);
    });
  }
});
