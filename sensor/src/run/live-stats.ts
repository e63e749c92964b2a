import type { Dataset } from '../../../kibana-plugin/common/ecs.ts';

export interface StatsSample {
  atMs: number;
  byDataset: Record<Dataset, number>;
}

/** Events per second by dataset between two samples of cumulative counters. */
export function ratesBetween(previous: StatsSample, current: StatsSample): Record<Dataset, number> {
  const seconds = Math.max(1e-3, (current.atMs - previous.atMs) / 1000);
  const out = {} as Record<Dataset, number>;
  for (const key of Object.keys(current.byDataset) as Dataset[]) {
    out[key] = Math.round((current.byDataset[key] - (previous.byDataset[key] ?? 0)) / seconds);
  }
  return out;
}

export function formatRates(rates: Record<Dataset, number>): string {
  return (Object.entries(rates) as [Dataset, number][])
    .filter(([, n]) => n > 0)
    .map(([d, n]) => `${d}=${n}/s`)
    .join(' ') || 'idle';
}
