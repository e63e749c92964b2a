/**
 * The layout worker: the plugin's own worker code (built as the plugin build embeds it) run in a real Worker answers
 * what the main thread's layout answers; a worker that cannot run its code hands the layout to the main thread.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { traceGraph } from '../common/graph/index.ts';
import { MemorySource } from '../common/graph/source.ts';
import { syntheticWorkload } from '../common/graph/synthetic.ts';
import { buildLayoutWorker } from '../tooling/build.ts';
import { edgesByPair, layoutCentres, layoutRequest, type LayoutRequest } from './graph-layout.ts';
import { LayoutWorker, startDrawing } from './layout-client.ts';

let source = '';
let request: LayoutRequest;
const workers: LayoutWorker[] = [];

beforeAll(async () => {
  source = await buildLayoutWorker();
  const w = syntheticWorkload({ seed: 2, packages: 8, filesPerPackage: 10, requests: 8 });
  const installer = w.events.find((e) => e.event.action === 'exec' && e.process?.args?.includes('/usr/bin/npm'))!;
  const g = await traceGraph(new MemorySource(w.events), { poi: `process:${installer.process!.entity_id}`, direction: 'forward', reduce: false });
  request = layoutRequest(g.nodes, edgesByPair(g.edges), { quickOrder: true });
});

afterAll(() => {
  for (const w of workers) w.dispose();
});

function worker(code: string): LayoutWorker {
  const w = new LayoutWorker(code);
  workers.push(w);
  return w;
}

describe('LayoutWorker', () => {
  test('the built worker lays a graph out in a worker, centre for centre as on the main thread; two requests at once each get their own', async () => {
    const w = worker(source);
    expect(w.inWorker).toBe(true);
    const other: LayoutRequest = { ids: ['a', 'b'], pairs: [['a', 'b']], quickOrder: false };
    const [mine, theirs] = await Promise.all([w.centres(request), w.centres(other)]);
    expect(w.inWorker).toBe(true);
    expect([...mine]).toEqual([...layoutCentres(request)]);
    expect(theirs.length).toBe(4);
    expect(theirs[0]).toBeLessThan(theirs[2]!);
  });

  test('a worker whose code fails to load: the pending layout is done on the main thread, and so are the next ones', async () => {
    const w = worker('throw new Error("refused");');
    const answer = await w.centres(request);
    expect([...answer]).toEqual([...layoutCentres(request)]);
    expect(w.inWorker).toBe(false);
    expect([...(await w.centres(request))]).toEqual([...answer]);
  });

  test('a request the layout throws on: the promise rejects naming the reason (the page shows it), the worker keeps serving', async () => {
    const w = worker(source);
    const refused = await w.centres({ ids: null as unknown as string[], pairs: [], quickOrder: false }).then(
      () => 'laid out',
      (e: Error) => e.message,
    );
    expect(refused).toStartWith('the graph could not be laid out: ');
    expect(w.inWorker).toBe(true);
    expect([...(await w.centres(request))]).toEqual([...layoutCentres(request)]);
  });

  test('startDrawing: a large graph draws one line per pair and is laid out by the worker', async () => {
    const w = worker(source);
    const g = { nodes: request.ids.map((id) => ({ id, kind: 'process' as const, label: id })), edges: request.pairs.map(([s, t], i) => ({ id: `e${i}`, source: s, target: t, kind: 'write' as const, first: '', last: '', count: 1, event_ids: [] })) };
    const d = startDrawing(g.nodes, [...g.edges, { ...g.edges[0]!, id: 'again', kind: 'read' as const }], w);
    expect(d.large).toBe(g.nodes.length + g.edges.length + 1 > 600);
    expect(d.pairs.length).toBe(g.edges.length);
    const layout = await d.layout;
    expect(layout.positions.size).toBe(g.nodes.length);
    expect(layout.box.x2).toBeGreaterThan(layout.box.x1);
  });
});
