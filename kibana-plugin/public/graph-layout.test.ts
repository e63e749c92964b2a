/**
 * The provenance graph's layered layout, on the engine's own graphs: every cause left of its effect, no two nodes
 * on each other, the box around every node; one drawn line per node pair; the viewport fit.
 */
import { describe, expect, test } from 'bun:test';
import { traceGraph } from '../common/graph/index.ts';
import type { GraphEdge, GraphNode } from '../common/graph/model.ts';
import { MemorySource } from '../common/graph/source.ts';
import { syntheticWorkload } from '../common/graph/synthetic.ts';
import dagre from '@dagrejs/dagre';
import { edgesByPair, fitViewport, layeredLayout, layoutCentres, layoutRequest, NODE_SIZE, type LayoutRequest } from './graph-layout.ts';

async function forwardFromInstaller(packages: number, maxNodes: number): Promise<{ nodes: GraphNode[]; edges: GraphEdge[] }> {
  const w = syntheticWorkload({ seed: 1, packages, filesPerPackage: 25, requests: packages });
  const installer = w.events.find((e) => e.event.action === 'exec' && e.process?.args?.includes('/usr/bin/npm'))!;
  return traceGraph(new MemorySource(w.events), { poi: `process:${installer.process!.entity_id}`, direction: 'forward', reduce: false, maxNodes });
}

function edge(id: string, source: string, target: string, kind: GraphEdge['kind'], attack = false): GraphEdge {
  return { id, source, target, kind, first: '2025-03-01T09:00:00Z', last: '2025-03-01T09:00:00Z', count: 1, event_ids: [], ...(attack ? { attack_path: true } : {}) };
}

describe('edgesByPair', () => {
  test('parallel edges of one ordered pair become one line holding each, named by the first; the reverse pair is its own line', () => {
    const edges = [edge('e1', 'a', 'b', 'write'), edge('e2', 'a', 'b', 'read', true), edge('e3', 'b', 'a', 'read'), edge('e4', 'a', 'c', 'exec')];
    const pairs = edgesByPair(edges);
    expect(pairs.map((p) => [p.id, p.source, p.target, p.edges.map((e) => e.id)])).toEqual([
      ['e1', 'a', 'b', ['e1', 'e2']],
      ['e3', 'b', 'a', ['e3']],
      ['e4', 'a', 'c', ['e4']],
    ]);
  });
});

describe('layeredLayout', () => {
  for (const quickOrder of [false, true]) {
    test(`a 1,000-node forward trace${quickOrder ? ' with the quick ordering' : ''}: causes left of effects, nodes apart, all inside the box`, async () => {
      const g = await forwardFromInstaller(60, 1000);
      expect(g.nodes.length).toBe(1000);
      const pairs = edgesByPair(g.edges);
      expect(pairs.length).toBeLessThan(g.edges.length);
      const { positions, box } = layeredLayout(g.nodes, pairs, { quickOrder });
      expect(positions.size).toBe(g.nodes.length);
      // The forward trace is acyclic: dagre reverses no edge, so every source lies in an earlier column.
      for (const p of pairs) expect(positions.get(p.source)!.x).toBeLessThan(positions.get(p.target)!.x);
      const seen = new Set<string>();
      for (const { x, y } of positions.values()) {
        expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
        expect(x - NODE_SIZE.width / 2).toBeGreaterThanOrEqual(box.x1);
        expect(x + NODE_SIZE.width / 2).toBeLessThanOrEqual(box.x2);
        expect(y - NODE_SIZE.height / 2).toBeGreaterThanOrEqual(box.y1);
        expect(y + NODE_SIZE.height / 2).toBeLessThanOrEqual(box.y2);
        seen.add(`${Math.round(x)},${Math.round(y)}`);
      }
      expect(seen.size).toBe(g.nodes.length);
    });
  }

  test("the quick ordering places every node where dagre's own first ordering (disableOptimalOrderHeuristic) does", async () => {
    const dagreOwn = (r: LayoutRequest): number[] => {
      const g = new dagre.graphlib.Graph();
      g.setGraph({ rankdir: 'LR', ranker: 'longest-path', nodesep: 14, ranksep: 60 });
      g.setDefaultEdgeLabel(() => ({}));
      for (const id of r.ids) g.setNode(id, { ...NODE_SIZE });
      for (const [s, t] of r.pairs) if (s !== t) g.setEdge(s, t);
      dagre.layout(g, { disableOptimalOrderHeuristic: true });
      return r.ids.flatMap((id) => [g.node(id).x, g.node(id).y]);
    };
    for (const [packages, maxNodes] of [[60, 1000], [6, 200]] as const) {
      const g = await forwardFromInstaller(packages, maxNodes);
      const request = layoutRequest(g.nodes, edgesByPair(g.edges), { quickOrder: true });
      expect([...layoutCentres(request)]).toEqual(dagreOwn(request));
    }
  });

  test('a node without edges and a self-loop are laid out too', () => {
    const nodes = ['a', 'b', 'lonely'].map((id) => ({ id, kind: 'process', label: id }) as GraphNode);
    const { positions } = layeredLayout(nodes, edgesByPair([edge('e1', 'a', 'b', 'spawn'), edge('e2', 'b', 'b', 'write')]), { quickOrder: false });
    expect([...positions.keys()].sort()).toEqual(['a', 'b', 'lonely']);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('b')!.x);
  });
});

describe('fitViewport', () => {
  test('the box fills the viewport less the padding along its tighter side, centred', () => {
    const v = fitViewport({ x1: 0, y1: 0, x2: 200, y2: 100 }, { width: 460, height: 460 }, { min: 1e-50, max: 1e50 }, 30)!;
    expect(v.zoom).toBe(2);
    expect(v.pan).toEqual({ x: 30, y: 130 });
    expect(fitViewport({ x1: 0, y1: 0, x2: 200, y2: 100 }, { width: 460, height: 460 }, { min: 0.1, max: 1.5 })!.zoom).toBe(1.5);
  });

  test('an empty box or a hidden container gives no viewport (cytoscape keeps its own)', () => {
    expect(fitViewport({ x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity }, { width: 400, height: 400 }, { min: 1e-50, max: 1e50 })).toBeUndefined();
    expect(fitViewport({ x1: 0, y1: 0, x2: 10, y2: 10 }, { width: 0, height: 0 }, { min: 1e-50, max: 1e50 })).toBeUndefined();
  });
});
