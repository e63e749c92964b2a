/**
 * GET /api/provmon/flows through `dispatch` over flows in a MemorySource (the local-store path): the answer counts
 * each flow once (its final report) whatever the number of its reports, filters narrow it, a store's own aggregator
 * is used when it has one, and bad parameters are a 400 naming the parameter. Elasticsearch's answer is held to
 * this one by common/flows/flows-conformance.es.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import type { FlowsAnswer } from '../common/flows/answer.ts';
import { syntheticFlows } from '../common/flows/synthetic.ts';
import { MemorySource } from '../common/graph/source.ts';
import { dispatch } from './dispatch.ts';
import { flowsRoute } from './flows-route.ts';
import type { ProvmonStore } from './http.ts';

const docs = [...syntheticFlows({ flows: 800, start: Date.parse('2026-01-05T00:00:00Z'), spanMs: 86_400_000 })];
const finals = docs.filter((d) => d.provmon?.flow?.final);
const store: ProvmonStore = { source: new MemorySource(docs), where: 'test', descriptor: { type: 'memory' }, info: async () => ({ events: docs.length }) };
const call = (query: Record<string, string>, s = store) => dispatch(flowsRoute, s, { query, params: {} });

describe('GET /api/provmon/flows', () => {
  test('each flow once (its final report), with its totals; every chart filled; truncation reported', async () => {
    expect(docs.length).toBeGreaterThan(finals.length);
    const r = await call({});
    expect(r.status).toBe(200);
    const a = r.body as FlowsAnswer;
    expect(a.totals.flows).toBe(finals.length);
    expect(a.totals.bytes).toBe(finals.reduce((n, d) => n + d.provmon!.flow!.total!.bytes!, 0));
    const sources = a.ranked.sources;
    expect(sources.buckets).toHaveLength(20);
    expect(sources.buckets.reduce((n, b) => n + b.flows, 0) + sources.other.flows).toBe(finals.length);
    expect(sources.buckets.reduce((n, b) => n + b.bytes, 0) + sources.other.bytes!).toBe(a.totals.bytes);
    expect(a.table.rows.map((row) => row.bytes)).toEqual([...a.table.rows.map((row) => row.bytes)].sort((x, y) => y - x));
    expect(a.scan).toEqual({ truncated: false, scanned: docs.length });
  });

  test('filters and the table sort narrow and order the answer', async () => {
    const a = (await call({ transport: 'udp', sort: 'duration' })).body as FlowsAnswer;
    expect(a.totals.flows).toBe(finals.filter((d) => d.network?.transport === 'udp').length);
    expect(a.ranked.protocols.buckets.map((b) => b.key)).toEqual(['udp']);
    const durations = a.table.rows.map((row) => row.duration_ns!);
    expect(durations).toEqual([...durations].sort((x, y) => y - x));
    const port = finals[0]!.destination!.port!;
    const p = (await call({ port: String(port) })).body as FlowsAnswer;
    expect(p.totals.flows).toBe(finals.filter((d) => d.destination?.port === port || d.source?.port === port).length);
  });

  test("a store's own aggregator answers when it has one (Elasticsearch)", async () => {
    const seen: unknown[] = [];
    const withAggs: ProvmonStore = { ...store, flows: async (filter, request) => (seen.push({ filter, request }), { totals: { flows: 42 } } as FlowsAnswer) };
    const r = await call({ host: 'host-1', interval: '1h' }, withAggs);
    expect((r.body as FlowsAnswer).totals.flows).toBe(42);
    expect(seen).toEqual([{ filter: { host: 'host-1' }, request: { interval: '1h', sort: 'bytes' } }]);
  });

  test('bad input: a 400 naming the parameter', async () => {
    for (const [query, names] of [
      [{ port: '70000' }, 'port'],
      [{ interval: '7m' }, 'interval'],
      [{ sort: 'speed' }, 'sort'],
      [{ from: 'yesterday-ish' }, 'from'],
      [{ proto: 'tcp' }, 'proto'],
    ] as const) {
      const r = await call(query);
      expect(r.status).toBe(400);
      expect((r.body as { message: string }).message).toContain(names);
    }
  });
});
