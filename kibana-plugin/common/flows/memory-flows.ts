/**
 * The flows answer computed from flow documents one by one (the local store's path): the same dimensions and
 * orders as the Elasticsearch aggregations in es-flows.ts, held to the same numbers by flows-conformance.es.test.ts.
 */
import type { EcsEvent } from '../ecs.ts';
import { SCATTER_POINTS, TABLE_ROWS, TABLE_SORTS, flowRow, flowWindow, valuesOf, type FlowsAnswer, type FlowsRequest } from './answer.ts';
import type { FlowFilter } from './filter.ts';
import { FlowSums, flowShare } from './flow-sums.ts';

export class FlowAccumulator {
  private readonly sums = new FlowSums();
  /** the largest flows so far as the scatter plot needs them: at most 2 × SCATTER_POINTS held (memory bounded) */
  private points: Ranking[] = [];
  private flowsSeen = 0;
  /** the table's rows so far, best first, at most TABLE_ROWS */
  private readonly table: { rank: Ranking; doc: EcsEvent }[] = [];
  private readonly sortValue: (d: EcsEvent) => number;

  constructor(private readonly filter: FlowFilter, private readonly request: FlowsRequest) {
    this.sortValue = sortValue(request.sort);
  }

  add(doc: EcsEvent): void {
    const share = flowShare(doc);
    this.sums.addFlow(share);
    this.flowsSeen++;
    this.points.push({ value: share.bytes, id: doc.event.id, bytes: share.bytes, packets: share.packets, transport: doc.network?.transport ?? '' });
    if (this.points.length >= 2 * SCATTER_POINTS) this.points = this.points.sort(compareRankings).slice(0, SCATTER_POINTS);
    this.keepForTable(doc);
  }

  private keepForTable(doc: EcsEvent): void {
    const rank: Ranking = { value: this.sortValue(doc), id: doc.event.id, bytes: 0, packets: 0, transport: '' };
    const t = this.table;
    if (t.length === TABLE_ROWS && compareRankings(rank, t[t.length - 1]!.rank) >= 0) return;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRankings(t[mid]!.rank, rank) <= 0) lo = mid + 1;
      else hi = mid;
    }
    t.splice(lo, 0, { rank, doc });
    if (t.length > TABLE_ROWS) t.pop();
  }

  answer(): Omit<FlowsAnswer, 'scan'> {
    return {
      window: flowWindow(this.filter),
      ...this.sums.answer(this.request),
      scatter: {
        points: [...this.points].sort(compareRankings).slice(0, SCATTER_POINTS).map(({ bytes, packets, transport }) => ({ bytes, packets, transport })),
        truncated: this.flowsSeen > SCATTER_POINTS,
      },
      table: { sort: this.request.sort, rows: this.table.map((r) => flowRow(r.doc)) },
    };
  }
}

interface Ranking {
  value: number;
  id: string;
  bytes: number;
  packets: number;
  transport: string;
}

/** Largest value first, ties by event.id: the order of Elasticsearch's sort [{field: desc}, {event.id: asc}]. */
function compareRankings(a: Ranking, b: Ranking): number {
  if (a.value !== b.value) return b.value > a.value ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sortValue(sort: FlowsRequest['sort']): (d: EcsEvent) => number {
  const field = TABLE_SORTS[sort];
  // A flow without the sort field sorts last, as Elasticsearch's `missing: _last` does.
  return (d) => {
    const v = valuesOf(d, field)[0];
    return typeof v === 'number' ? v : -Infinity;
  };
}
