import { describe, expect, test } from 'bun:test';
import { junitCounts, summaryLine } from './run-tests.ts';

describe('test summary line', () => {
  test('is taken from the JUnit totals bun writes', () => {
    const xml = '<?xml version="1.0"?>\n<testsuites name="bun test" tests="12" assertions="30" failures="2" skipped="3" time="1">';
    const counts = junitCounts(xml)!;
    expect(counts).toEqual({ tests: 12, failures: 2, skipped: 3 });
    expect(summaryLine(counts)).toBe('tests: 7 passed, 2 failed, 3 skipped');
    expect(summaryLine({ tests: 4, failures: 0, skipped: 0 })).toBe('tests: 4 passed, 0 failed');
  });

  test('a report without totals gives nothing rather than zeros', () => {
    expect(junitCounts('not xml')).toBeUndefined();
  });
});
