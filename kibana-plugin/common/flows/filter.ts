/**
 * Which flows a flows request covers, once, in the two forms the stores need: an Elasticsearch bool filter and a
 * predicate over documents (the local store). A flow is its final report (`provmon.flow.final: true`): that
 * document alone carries the flow's totals (`provmon.flow.total.*`, docs/pcap.md), so counting final reports counts
 * each connection once and summing their totals sums each connection's bytes once. A flow counts at its last
 * packet (`@timestamp` = `event.end`).
 */
import type { EcsEvent } from '../ecs.ts';
import { parseTimestamp } from '../graph/time.ts';

export interface FlowFilter {
  from?: string;
  to?: string;
  /** host.name */
  host?: string;
  /** network.transport */
  transport?: string;
  /** source.ip or destination.ip */
  ip?: string;
  /** source.port or destination.port */
  port?: number;
  /** source.domain or destination.domain */
  domain?: string;
  /** process.name */
  process?: string;
}

export const FLOW_INDEX = 'logs-provmon.flow-*';

type Clause = Record<string, unknown>;

const either = (a: string, b: string, value: unknown): Clause => ({
  bool: { should: [{ term: { [a]: value } }, { term: { [b]: value } }], minimum_should_match: 1 },
});

export function flowFilterClauses(f: FlowFilter): Clause[] {
  const clauses: Clause[] = [{ term: { 'data_stream.dataset': 'provmon.flow' } }, { term: { 'provmon.flow.final': true } }];
  if (f.from || f.to) clauses.push({ range: { '@timestamp': { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}), format: 'strict_date_optional_time_nanos' } } });
  if (f.host) clauses.push({ term: { 'host.name': f.host } });
  if (f.transport) clauses.push({ term: { 'network.transport': f.transport } });
  if (f.ip) clauses.push(either('source.ip', 'destination.ip', f.ip));
  if (f.port !== undefined) clauses.push(either('source.port', 'destination.port', f.port));
  if (f.domain) clauses.push(either('source.domain', 'destination.domain', f.domain));
  if (f.process) clauses.push({ term: { 'process.name': f.process } });
  return clauses;
}

/** Elasticsearch stores dates to the millisecond: compare whole milliseconds here too. */
export const wholeMs = (iso: string): number => Math.floor(parseTimestamp(iso));

export interface FlowPredicate {
  (doc: EcsEvent): boolean;
}

export function flowPredicate(f: FlowFilter): FlowPredicate {
  const from = f.from ? wholeMs(f.from) : undefined;
  const to = f.to ? wholeMs(f.to) : undefined;
  return (doc) => {
    if (doc.provmon?.flow?.final !== true) return false;
    if ((doc.data_stream?.dataset ?? doc.event.dataset) !== 'provmon.flow') return false;
    const t = wholeMs(doc['@timestamp']);
    if (from !== undefined && t < from) return false;
    if (to !== undefined && t > to) return false;
    if (f.host && doc.host?.name !== f.host) return false;
    if (f.transport && doc.network?.transport !== f.transport) return false;
    if (f.ip && doc.source?.ip !== f.ip && doc.destination?.ip !== f.ip) return false;
    if (f.port !== undefined && doc.source?.port !== f.port && doc.destination?.port !== f.port) return false;
    if (f.domain && doc.source?.domain !== f.domain && doc.destination?.domain !== f.domain) return false;
    if (f.process && doc.process?.name !== f.process) return false;
    return true;
  };
}
