/**
 * GET /api/provmon/flows: every chart of the Flows page in one answer (common/flows/answer.ts). Stores aggregate
 * where they can (store.flows: Elasticsearch aggregations; the local store's flow table in its index); any other
 * store's flow documents are read through its event source, a time window at a time, and aggregated here with the
 * same definitions (localFlowsAnswer).
 */
import { INTERVALS, TABLE_SORTS, type FlowsAnswer, type FlowsRequest, type IntervalName, type TableSort } from '../common/flows/answer.ts';
import { flowPredicate, wholeMs, type FlowFilter } from '../common/flows/filter.ts';
import { FlowAccumulator } from '../common/flows/memory-flows.ts';
import { scanWindow } from '../common/search/scan.ts';
import { route, type ProvmonStore } from './http.ts';
import { validator } from './params.ts';

/** flows the local store reads for one answer; beyond it the answer says `scan.truncated` */
export const MAX_FLOW_SCAN = 2_000_000;

export const FLOW_PARAMS = ['from', 'to', 'host', 'transport', 'ip', 'port', 'domain', 'process', 'interval', 'sort'] as const;

export const readFlowsQuery = validator(FLOW_PARAMS, (p) => {
  const filter: FlowFilter = { ...p.window(Date.now()) };
  for (const name of ['host', 'transport', 'ip', 'domain', 'process'] as const) {
    const v = p.string(name);
    if (v !== undefined) filter[name] = v;
  }
  const port = p.int('port', 0, 65535);
  if (port !== undefined) filter.port = port;
  const request: FlowsRequest = {
    interval: p.oneOf('interval', Object.keys(INTERVALS) as IntervalName[]) ?? '5m',
    sort: p.oneOf('sort', Object.keys(TABLE_SORTS) as TableSort[]) ?? 'bytes',
  };
  return { filter, request };
});

export async function localFlowsAnswer(store: ProvmonStore, filter: FlowFilter, request: FlowsRequest, maxScan = MAX_FLOW_SCAN): Promise<FlowsAnswer> {
  const acc = new FlowAccumulator(filter, request);
  const keep = flowPredicate(filter);
  // The source compares exact times; a flow filter whole milliseconds (filter.ts): read every flow of the last one.
  const to = filter.to ? new Date(wholeMs(filter.to)).toISOString().replace('Z', '999999Z') : undefined;
  const scan = await scanWindow(store.source, { ...(filter.from ? { from: new Date(wholeMs(filter.from)).toISOString() } : {}), ...(to ? { to } : {}), datasets: ['flow'], maxScan }, (doc) => {
    if (keep(doc)) acc.add(doc);
  });
  return { ...acc.answer(), scan: { truncated: scan.truncated, scanned: scan.scanned } };
}

export const flowsRoute = route({
  path: '/api/provmon/flows',
  summary: 'every flow chart of a window: totals, protocols, traffic over time, top talkers, ports, durations, TCP flags, domains, processes, rare destinations, top-100 table',
  validate: { query: readFlowsQuery },
  async handler(store, { query }) {
    return store.flows ? store.flows(query.filter, query.request) : localFlowsAnswer(store, query.filter, query.request);
  },
});
