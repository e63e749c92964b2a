/**
 * Reads every event of a time window from an EventSource, page by page (the source's own order and `after`
 * cursor), stopping at a bound. The events and overview routes are built on it: what a store can answer for the
 * graph engine it can answer for them, with the same meaning.
 */
import type { Dataset, EcsEvent } from '../ecs.ts';
import { sortKey, type EventSource, type SortKey } from '../graph/source.ts';

export interface ScanWindow {
  from?: string;
  to?: string;
  datasets: Dataset[];
  /** most events read; the scan says `truncated` when it stopped there */
  maxScan: number;
}

export interface ScanResult {
  scanned: number;
  truncated: boolean;
}

const PAGE = 5000;

export async function scanWindow(source: EventSource, w: ScanWindow, visit: (ev: EcsEvent) => void): Promise<ScanResult> {
  let after: SortKey | undefined;
  let scanned = 0;
  for (;;) {
    const limit = Math.min(PAGE, w.maxScan - scanned);
    if (limit <= 0) return { scanned, truncated: true };
    const page = await source.fetch({
      ...(w.from ? { from: w.from } : {}),
      ...(w.to ? { to: w.to } : {}),
      datasets: w.datasets,
      limit,
      ...(after ? { after } : {}),
    });
    for (const ev of page) visit(ev);
    scanned += page.length;
    if (page.length < limit) return { scanned, truncated: false };
    after = sortKey(page[page.length - 1]!);
  }
}
