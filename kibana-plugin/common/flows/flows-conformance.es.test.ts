/**
 * The flows answer two ways on the same flows: Elasticsearch aggregations (the real test node, provmon's own
 * templates from `provmon setup --core-only`) and the local store, both from its index's flow table and from its flow
 * documents (the path for stores without that table). Flows come from
 * the committed real captures (through the sensor's own pipeline and document builder, periodic reports included)
 * and from a synthetic set wide enough that every ranked chart has values beyond its top buckets.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { resolve } from 'node:path';
import { removeTempDirs } from '../../../sensor/src/graph/testdata/tmp.ts';
import { LocalStoreSource } from '../../../sensor/src/graph/local-source.ts';
import { flowDocument } from '../../../sensor/src/pcap/ecs.ts';
import { processCaptureFile } from '../../../sensor/src/pcap/pipeline.ts';
import { testClient, testNode } from '../../../test/support/es.ts';
import { bulkIndex, localStoreOf } from '../../../test/support/same-docs.ts';
import type { ProvmonStore } from '../../server/http.ts';
import { localFlowsAnswer } from '../../server/flows-route.ts';
import type { EcsEvent } from '../ecs.ts';
import { DIMENSIONS, type FlowsAnswer, type FlowsRequest } from './answer.ts';
import { esFlowsAnswer } from './es-flows.ts';
import type { FlowFilter } from './filter.ts';
import { syntheticFlows } from './synthetic.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `flows${process.pid}${Date.now().toString(36)}`;
const INDEX = `logs-provmon.flow-${NS}`;
const START = Date.parse('2026-03-02T10:00:00Z');

function captureFlows(): EcsEvent[] {
  const docs: EcsEvent[] = [];
  for (const file of ['lo.pcapng', 'any-sll.pcap', 'multi-if.pcapng']) {
    processCaptureFile(resolve(ROOT, 'sensor/src/pcap/testdata', file), {
      flushIntervalSec: 1,
      onFlow: (r) => docs.push(flowDocument(r, { host: { name: 'capture-host', id: `cap-${file}` }, namespace: NS }) as unknown as EcsEvent),
    });
  }
  return docs;
}

const docs: EcsEvent[] = [...captureFlows(), ...syntheticFlows({ flows: 6000, start: START, spanMs: 2 * 86_400_000, namespace: NS })];
let client: Client;
let store: ProvmonStore;
let local: LocalStoreSource;

beforeAll(async () => {
  client = testClient(await testNode('open'));
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--es', (await testNode('open')).url, '--core-only'], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
  await bulkIndex(client, docs, () => INDEX, INDEX);
  local = localStoreOf(docs, 'provmon-flows-conf-');
  store = { source: local, where: local.dir, descriptor: { type: 'local' }, info: async () => local.info() };
});

afterAll(async () => {
  local?.close();
  removeTempDirs();
  await client?.close();
});

/** Elasticsearch's answer, and the local store's: the same from its index's flow table as from its flow documents. */
const both = async (filter: FlowFilter, request: FlowsRequest): Promise<[Omit<FlowsAnswer, 'scan'>, Omit<FlowsAnswer, 'scan'>]> => {
  const { scan: _e, ...es } = await esFlowsAnswer(client, filter, request, INDEX);
  const { scan, ...mem } = await localFlowsAnswer(store, filter, request);
  expect(scan.truncated).toBe(false);
  const { scan: indexScan, ...indexed } = local.flowsAnswer(filter, request, Infinity);
  expect(indexScan.truncated).toBe(false);
  expect(indexed).toEqual(mem);
  return [es, mem];
};

const finals = docs.filter((d) => d.provmon?.flow?.final);
/** a synthetic flow with every filterable field, to filter on values that exist */
const sample = finals.find((d) => d.destination?.domain && d.destination.port && d.process?.name && d.host.name === 'host-0')!;

describe('flows: Elasticsearch aggregations and the local store give the same answer', () => {
  test('the flows include real captured ones and periodic (non-final) reports, which are not counted twice', () => {
    expect(docs.filter((d) => d.host.name === 'capture-host').length).toBeGreaterThan(10);
    expect(docs.length - finals.length).toBeGreaterThan(100);
  });

  test('whole range: every chart equal; totals equal the final reports summed by hand', async () => {
    const [es, mem] = await both({}, { interval: '5m', sort: 'bytes' });
    expect(mem).toEqual(es);
    expect(es.totals.flows).toBe(finals.length);
    expect(es.totals.bytes).toBe(finals.reduce((n, d) => n + (d.provmon!.flow!.total!.bytes ?? 0), 0));
    for (const d of DIMENSIONS) expect(es.ranked[d.name].buckets.length).toBeGreaterThan(0);
    // truncation is reported: more sources, ports, domains and processes than the top buckets
    for (const name of ['sources', 'destinations', 'domains', 'processes', 'rare_destinations'] as const) expect(es.ranked[name].other.flows).toBeGreaterThan(0);
    expect(es.over_time.points.length).toBeGreaterThan(100);
    expect(es.hourly.length).toBeGreaterThan(24);
    expect(es.durations.reduce((n, b) => n + b.flows, 0)).toBe(finals.length);
    expect(es.table.rows).toHaveLength(100);
    expect(es.table.rows[0]!.bytes).toBe(Math.max(...finals.map((d) => d.provmon!.flow!.total!.bytes!)));
    expect(es.scatter.points).toHaveLength(finals.length);
  });

  test('each filter, each table sort and another interval: equal', async () => {
    const cases: [FlowFilter, FlowsRequest][] = [
      [{ from: '2026-03-02T12:00:00.000Z', to: '2026-03-03T03:30:00.500Z' }, { interval: '15m', sort: 'duration' }],
      [{ host: 'host-1', transport: 'tcp' }, { interval: '1h', sort: 'packets' }],
      [{ ip: sample.destination!.ip! }, { interval: '5m', sort: 'bytes' }],
      [{ port: sample.destination!.port!, process: sample.process!.name! }, { interval: '5m', sort: 'bytes' }],
      [{ domain: sample.destination!.domain! }, { interval: '1d', sort: 'duration' }],
      [{ host: 'capture-host' }, { interval: '1m', sort: 'bytes' }],
    ];
    for (const [filter, request] of cases) {
      const [es, mem] = await both(filter, request);
      expect({ filter, flows: es.totals.flows > 0 }).toEqual({ filter, flows: true });
      expect(mem).toEqual(es);
    }
  });

  // A window alone is answered by the local index from pre-summed hours plus its partial edge hours' flows.
  test('windows: edges inside hours (at milliseconds and below), open ends, whole hours, inside one hour: equal', async () => {
    const cases: [FlowFilter, FlowsRequest][] = [
      [{ from: '2026-03-02T13:27:41.250Z' }, { interval: '1m', sort: 'bytes' }],
      [{ to: '2026-03-03T17:02:09.999999Z' }, { interval: '5m', sort: 'packets' }],
      [{ from: '2026-03-02T11:00:00Z', to: '2026-03-03T09:00:00Z' }, { interval: '1h', sort: 'bytes' }],
      [{ from: '2026-03-02T11:00:00.001Z', to: '2026-03-03T08:59:59.999Z' }, { interval: '15m', sort: 'duration' }],
      [{ from: '2026-03-03T04:10:00.123Z', to: '2026-03-03T04:50:00Z' }, { interval: '1m', sort: 'packets' }],
      [{ from: finals[40]!['@timestamp'], to: finals[41]!['@timestamp'] }, { interval: '5m', sort: 'bytes' }],
    ];
    for (const [filter, request] of cases) {
      const [es, mem] = await both(filter, request);
      expect({ filter, flows: es.totals.flows > 0 }).toEqual({ filter, flows: true });
      expect(mem).toEqual(es);
    }
  });

  test('a window with no flows answers zeros and empty charts on both', async () => {
    const [es, mem] = await both({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }, { interval: '5m', sort: 'bytes' });
    expect(es.totals.flows).toBe(0);
    expect(mem).toEqual(es);
  });
});
