/**
 * The bench harness: every benchmark compares its cases with a baseline measured in the same run, interleaved
 * round by round so a noisy neighbour hits all of them alike, and reports medians and ratios.
 */
export interface BenchCase {
  label: string;
  /** One measurement in the benchmark's unit. */
  measure: () => Promise<number> | number;
}

export interface Benchmark {
  name: string;
  unit: string;
  /** Whether a smaller figure is better (times) or a larger one (throughput). */
  better: 'lower' | 'higher';
  rounds: number;
  baseline: BenchCase;
  cases: BenchCase[];
  /** What the figures mean, printed under the table. */
  note?: string;
  setup?: () => Promise<void> | void;
  teardown?: () => Promise<void> | void;
}

export interface CaseResult {
  label: string;
  median: number;
  min: number;
  max: number;
  samples: number[];
  /** median / baseline median */
  ratio: number;
}

export interface BenchResult {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  baseline: CaseResult;
  cases: CaseResult[];
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summarise(label: string, samples: number[], baselineMedian: number): CaseResult {
  const m = median(samples);
  return { label, median: m, min: Math.min(...samples), max: Math.max(...samples), samples, ratio: baselineMedian === 0 ? Number.NaN : m / baselineMedian };
}

export async function runBenchmark(bench: Benchmark): Promise<BenchResult> {
  await bench.setup?.();
  try {
    const all = [bench.baseline, ...bench.cases];
    const samples = all.map(() => [] as number[]);
    await all[0]!.measure(); // warm-up, discarded: first runs pay for disk cache and JIT
    for (let round = 0; round < bench.rounds; round++) {
      for (let i = 0; i < all.length; i++) samples[i]!.push(await all[i]!.measure());
    }
    const baselineMedian = median(samples[0]!);
    return {
      name: bench.name,
      unit: bench.unit,
      better: bench.better,
      baseline: summarise(bench.baseline.label, samples[0]!, baselineMedian),
      cases: bench.cases.map((c, i) => summarise(c.label, samples[i + 1]!, baselineMedian)),
      ...(bench.note ? { note: bench.note } : {}),
    };
  } finally {
    await bench.teardown?.();
  }
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 1e6 ? value.toExponential(3) : abs >= 100 ? value.toFixed(0) : abs >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

export function formatResult(result: BenchResult): string {
  const rows = [result.baseline, ...result.cases];
  const width = Math.max(...rows.map((r) => r.label.length), 8);
  const lines = [`${result.name}  (${result.unit}, ${result.better} is better, median of ${result.baseline.samples.length})`];
  for (const [i, r] of rows.entries()) {
    const ratio = i === 0 ? 'baseline' : `${fmt(r.ratio)}x baseline`;
    lines.push(`  ${r.label.padEnd(width)}  ${fmt(r.median).padStart(10)}  [${fmt(r.min)} .. ${fmt(r.max)}]  ${ratio}`);
  }
  if (result.note) lines.push(`  note: ${result.note}`);
  return lines.join('\n');
}
