/**
 * The flows answer from the local index's per-hour sums (plus its edge hours' flows, and the scatter and table
 * through their indexes) equals the answer of reading every flow document of the window, on a store whose hours are
 * spread over several JSONL files written out of time order, and where a process is renamed (exec) between its
 * flows: the label is the one of its earliest flow on both paths.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { FlowsRequest } from '../../../kibana-plugin/common/flows/answer.ts';
import type { FlowFilter } from '../../../kibana-plugin/common/flows/filter.ts';
import { syntheticFlows } from '../../../kibana-plugin/common/flows/synthetic.ts';
import { localFlowsAnswer } from '../../../kibana-plugin/server/flows-route.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { LocalStoreSource } from './local-source.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

const START = Date.parse('2026-05-04T06:40:00Z');
/** Later flows of the busiest process carry another name (it exec'd): the earliest flow's name labels it. */
function renamed(docs: EcsEvent[]): EcsEvent[] {
  const bytes = new Map<string, number>();
  for (const d of docs) if (d.provmon?.flow?.final && d.process) bytes.set(d.process.entity_id, (bytes.get(d.process.entity_id) ?? 0) + d.provmon.flow.total!.bytes!);
  const busiest = [...bytes].sort((a, b) => b[1] - a[1])[0]![0];
  return docs.map((d) => (d.process?.entity_id === busiest && Date.parse(d['@timestamp']) > START + 90 * 60_000 ? { ...d, process: { ...d.process!, name: 'renamed' } } : d));
}
const docs = renamed([...syntheticFlows({ flows: 4000, start: START, spanMs: 4 * 3_600_000, seed: 11 })]);

describe('the local index sums flows per hour with the answers of reading the flows', () => {
  const dir = tempDir('provmon-flow-sums-');
  const writer = new LocalStore({ dir, rotateBytes: 128 * 1024 });
  for (const d of [...docs].reverse()) writer.write(d);
  writer.close();
  const local = LocalStoreSource.open(dir);
  afterAll(() => local.close());
  const store = { source: local, where: dir, descriptor: {}, info: async () => local.info() };

  const cases: [string, FlowFilter, FlowsRequest][] = [
    ['everything', {}, { interval: '5m', sort: 'bytes' }],
    ['edges inside hours', { from: '2026-05-04T07:12:30.500Z', to: '2026-05-04T09:47:01.250Z' }, { interval: '1m', sort: 'packets' }],
    ['whole hours', { from: '2026-05-04T07:00:00Z', to: '2026-05-04T08:59:59.999Z' }, { interval: '15m', sort: 'duration' }],
    ['inside one hour', { from: '2026-05-04T08:05:00Z', to: '2026-05-04T08:20:00Z' }, { interval: '1m', sort: 'bytes' }],
    ['from only', { from: '2026-05-04T09:30:00.001Z' }, { interval: '1h', sort: 'bytes' }],
  ];
  for (const [name, filter, request] of cases) {
    test(name, async () => {
      const { scan, ...summed } = local.flowsAnswer(filter, request, Infinity);
      const { scan: read, ...expected } = await localFlowsAnswer(store, filter, request);
      expect(read.truncated).toBe(false);
      expect(summed).toEqual(expected);
      expect(scan.scanned).toBe(summed.totals.flows);
      expect(summed.totals.flows).toBeGreaterThan(0);
    });
  }

  test('the renamed process keeps the name of its earliest flow', () => {
    const processes = local.flowsAnswer({}, { interval: '5m', sort: 'bytes' }, Infinity).ranked.processes.buckets;
    const renamedOne = docs.find((d) => d.process?.name === 'renamed' && d.provmon?.flow?.final)!.process!.entity_id;
    const first = docs.filter((d) => d.process?.entity_id === renamedOne).sort((a, b) => Date.parse(a['@timestamp']) - Date.parse(b['@timestamp']))[0]!;
    expect(processes.find((b) => b.key === renamedOne)?.label).toBe(first.process!.name);
    expect(first.process!.name).not.toBe('renamed');
  });
});
