/**
 * The layered (dagre) layout of a provenance graph, left to right, computed on the graph's plain data before any
 * cytoscape element exists: cytoscape then starts with every position set (no layout pass over its elements, no
 * position events, no bounding-box walk to fit the viewport).
 */
import dagre from '@dagrejs/dagre';
import type { GraphEdge } from '../common/graph/model.ts';

export const NODE_SIZE = { width: 26, height: 18 };

/** Above this many nodes and edges a graph is drawn as a large one (see graph-canvas.ts). */
export const LARGE_GRAPH = 600;

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface DrawnEdge {
  /** the first edge of the pair's id */
  id: string;
  source: string;
  target: string;
  /** every edge between the pair (a large graph draws one line per pair) */
  edges: GraphEdge[];
}

export interface Layout {
  positions: Map<string, { x: number; y: number }>;
  /** the nodes' boxes, labels excluded */
  box: Box;
}

/**
 * One line per ordered pair of nodes: parallel edges of other kinds lie exactly on each other once drawn straight,
 * change no rank, and multiply the layout's crossing reduction and the renderer's work. The edge table lists each.
 */
export function edgesByPair(edges: readonly GraphEdge[]): DrawnEdge[] {
  const pairs = new Map<string, DrawnEdge>();
  for (const e of edges) {
    const key = `${e.source}\u0000${e.target}`;
    const pair = pairs.get(key);
    if (pair) pair.edges.push(e);
    else pairs.set(key, { id: e.id, source: e.source, target: e.target, edges: [e] });
  }
  return [...pairs.values()];
}

export interface LayoutOptions {
  /**
   * Keep dagre's first ordering of each rank (a depth-first walk from the sources, which keeps each subtree
   * together) instead of its crossing-reduction sweeps: on the 1,000-node bench graph the sweeps are a third to a
   * half of the layout's time.
   */
  quickOrder: boolean;
}

/**
 * What a layout needs, as plain data that crosses to a Web Worker cheaply: node ids and the drawn pairs' ends.
 * The answer is the nodes' centres in the ids' order, x then y, in one transferable array.
 */
export interface LayoutRequest {
  ids: string[];
  pairs: [source: string, target: string][];
  quickOrder: boolean;
}

export function layoutRequest(nodes: readonly { id: string }[], pairs: readonly { source: string; target: string }[], options: LayoutOptions): LayoutRequest {
  return { ids: nodes.map((n) => n.id), pairs: pairs.map((p) => [p.source, p.target]), quickOrder: options.quickOrder };
}

/**
 * dagre's first ordering of each rank: a depth-first walk from the nodes of the lowest ranks along successors, each
 * node taking the next place in its rank. The quick ordering keeps it; dagre 3.1.4 builds its crossing-reduction
 * layer graphs before it reads disableOptimalOrderHeuristic (a sixth of the layout and much of its garbage on the
 * bench graph, in node's profiler), so the walk is given as dagre's customOrder and nothing else runs.
 */
function depthFirstOrder(g: InstanceType<typeof dagre.graphlib.Graph>): void {
  const rankOf = (v: string) => (g.node(v) as unknown as { rank: number }).rank;
  const layers: string[][] = [];
  const seen = new Set<string>();
  const visit = (v: string): void => {
    if (seen.has(v)) return;
    seen.add(v);
    (layers[rankOf(v)] ??= []).push(v);
    for (const w of g.successors(v) ?? []) visit(w);
  };
  const leaves = g.nodes().filter((v) => g.children(v).length === 0);
  leaves.sort((a, b) => rankOf(a) - rankOf(b)).forEach(visit);
  for (const layer of layers) layer?.forEach((v, i) => ((g.node(v) as unknown as { order: number }).order = i));
}

export function layoutCentres(request: LayoutRequest): Float64Array {
  const g = new dagre.graphlib.Graph();
  // longest-path ranking: network simplex costs much on a thousand nodes and changes little in a provenance graph
  g.setGraph({ rankdir: 'LR', ranker: 'longest-path', nodesep: 14, ranksep: 60 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const id of request.ids) g.setNode(id, { ...NODE_SIZE });
  for (const [source, target] of request.pairs) if (source !== target) g.setEdge(source, target);
  dagre.layout(g, request.quickOrder ? { customOrder: depthFirstOrder } : {});
  const centres = new Float64Array(request.ids.length * 2);
  request.ids.forEach((id, i) => {
    const { x, y } = g.node(id);
    centres[2 * i] = x;
    centres[2 * i + 1] = y;
  });
  return centres;
}

/** The centres of layoutCentres by node id, and the box around the nodes. */
export function layoutOf(ids: readonly string[], centres: Float64Array): Layout {
  const positions = new Map<string, { x: number; y: number }>();
  const box: Box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  ids.forEach((id, i) => {
    const x = centres[2 * i]!;
    const y = centres[2 * i + 1]!;
    positions.set(id, { x, y });
    box.x1 = Math.min(box.x1, x - NODE_SIZE.width / 2);
    box.x2 = Math.max(box.x2, x + NODE_SIZE.width / 2);
    box.y1 = Math.min(box.y1, y - NODE_SIZE.height / 2);
    box.y2 = Math.max(box.y2, y + NODE_SIZE.height / 2);
  });
  return { positions, box };
}

export function layeredLayout(nodes: readonly { id: string }[], pairs: readonly { source: string; target: string }[], options: LayoutOptions): Layout {
  const request = layoutRequest(nodes, pairs, options);
  return layoutOf(request.ids, layoutCentres(request));
}

/** The zoom and pan that fit a box into a viewport of that size (cytoscape's fit, without measuring anything). */
export function fitViewport(box: Box, viewport: { width: number; height: number }, limits: { min: number; max: number }, padding = 30): { zoom: number; pan: { x: number; y: number } } | undefined {
  const w = box.x2 - box.x1;
  const hgt = box.y2 - box.y1;
  if (!(w > 0) || !(hgt > 0) || viewport.width <= 0 || viewport.height <= 0) return undefined;
  const zoom = Math.min(limits.max, Math.max(limits.min, Math.min((viewport.width - 2 * padding) / w, (viewport.height - 2 * padding) / hgt)));
  return { zoom, pan: { x: (viewport.width - zoom * (box.x1 + box.x2)) / 2, y: (viewport.height - zoom * (box.y1 + box.y2)) / 2 } };
}
