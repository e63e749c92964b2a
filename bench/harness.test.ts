import { describe, expect, test } from 'bun:test';
import { formatResult, median, runBenchmark } from './harness.ts';

describe('bench harness', () => {
  test('median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('reports medians and ratios against the baseline of the same run', async () => {
    let calls = 0;
    const result = await runBenchmark({
      name: 'fixed',
      unit: 'units',
      better: 'lower',
      rounds: 3,
      baseline: { label: 'base', measure: () => 10 },
      cases: [{ label: 'twice', measure: () => (calls++, 20) }],
    });
    expect(calls).toBe(3);
    expect(result.baseline.median).toBe(10);
    expect(result.cases[0]!.ratio).toBe(2);
    expect(formatResult(result)).toContain('2.00x baseline');
  });
});
