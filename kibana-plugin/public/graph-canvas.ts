/**
 * The graph drawn with cytoscape and the dagre layered layout, left to right (causes before effects, so time
 * runs left to right along every chain). Shape by node kind, fill by the worst finding's severity, the attack
 * path in red, the point of interest outlined. The canvas is not the only view: the page lists every node and
 * edge in tables beside it.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import React, { useEffect, useRef } from 'react';
import type { GraphEdge, GraphNode } from '../common/graph/model.ts';
import { fitViewport, NODE_SIZE, type DrawnEdge, type Layout } from './graph-layout.ts';
import { h } from './h.ts';
import type { Drawing } from './layout-client.ts';

const SHAPE: Record<string, string> = { process: 'round-rectangle', file: 'rectangle', channel: 'barrel', endpoint: 'diamond' };
const SEVERITY_COLOUR: Record<string, string> = { high: '#BD271E', medium: '#F5A700', low: '#D6BF57' };
const SEVERITY_RANK: Record<string, number> = { high: 3, medium: 2, low: 1 };
const KIND_COLOUR: Record<string, string> = { process: '#6092C0', file: '#A8B6C8', channel: '#B9A888', endpoint: '#54B399' };
const NODE_FONT_SIZE = 9;
/** Labels of a large graph are drawn from this on-screen font size up (smaller ones cannot be read). */
const MIN_READABLE_FONT = 8;

export function severityOf(n: Pick<GraphNode, 'flags'>): string | undefined {
  let best: string | undefined;
  for (const f of n.flags ?? []) if (!best || (SEVERITY_RANK[f.severity] ?? 0) > (SEVERITY_RANK[best] ?? 0)) best = f.severity;
  return best;
}

function nodeElement(n: GraphNode, position: { x: number; y: number } | undefined): ElementDefinition {
  return {
    data: { id: n.id, label: n.label.length > 48 ? `…${n.label.slice(-47)}` : n.label, kind: n.kind, colour: SEVERITY_COLOUR[severityOf(n) ?? ''] ?? KIND_COLOUR[n.kind] ?? '#98A2B3' },
    classes: [n.poi ? 'poi' : '', n.attack_path ? 'attack' : ''].filter(Boolean).join(' '),
    ...(position ? { position } : {}),
  };
}

function edgeElement(e: GraphEdge): ElementDefinition {
  return { data: { id: e.id, source: e.source, target: e.target, label: e.count > 1 ? `${e.kind} ×${e.count}` : e.kind }, classes: e.attack_path ? 'attack' : '' };
}

function pairElement(p: DrawnEdge): ElementDefinition {
  return { data: { id: p.id, source: p.source, target: p.target, label: p.edges.map((e) => e.kind).join(', ') }, classes: p.edges.some((e) => e.attack_path) ? 'attack' : '' };
}

/**
 * Large graphs: node labels are part of the style only once the zoom makes them readable (measuring a thousand
 * labels nobody can read is a large part of the first frame), and drop out again when zoomed back out.
 */
function labelsWhenReadable(cy: Core): void {
  let shown = false;
  const update = () => {
    const readable = cy.zoom() * NODE_FONT_SIZE >= MIN_READABLE_FONT;
    if (readable === shown) return;
    shown = readable;
    cy.batch(() => (readable ? cy.nodes().addClass('labelled') : cy.nodes().removeClass('labelled')));
  };
  cy.on('zoom', update);
  update();
}

export interface CanvasProps {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** the same graph's drawing, started when the graph arrived (startDrawing): the canvas starts once it is laid out */
  drawing: Drawing;
  onSelect(id: string | undefined): void;
  onReady(cy: Core | undefined): void;
  onError(error: Error): void;
}

function draw(container: HTMLDivElement, props: CanvasProps, layout: Layout): Core {
  const { large, pairs } = props.drawing;
  const view = fitViewport(layout.box, { width: container.clientWidth, height: container.clientHeight }, { min: 1e-50, max: 1e50 });
  const cy = cytoscape({
    // Large graphs: one device pixel per CSS pixel, and no edges while the viewport moves.
    ...(large ? { pixelRatio: 1, hideEdgesOnViewport: true } : {}),
    container,
    ...(view && large ? view : {}),
    elements: [
      ...props.nodes.map((n) => nodeElement(n, layout.positions.get(n.id))),
      // Large graphs: one straight line per pair of nodes (see edgesByPair); small ones every edge, labelled.
      ...(large ? pairs.map(pairElement) : props.edges.map(edgeElement)),
    ],
    style: [
      { selector: 'node', style: { 'background-color': 'data(colour)', 'font-size': NODE_FONT_SIZE, 'text-valign': 'bottom', 'text-margin-y': 3, width: NODE_SIZE.width, height: NODE_SIZE.height } },
      { selector: large ? 'node.labelled' : 'node', style: { label: 'data(label)' } },
      ...Object.entries(SHAPE).map(([kind, shape]) => ({ selector: `node[kind = "${kind}"]`, style: { shape: shape as never } })),
      { selector: 'node.poi', style: { 'border-width': 3, 'border-color': '#000' } },
      { selector: 'node.attack', style: { 'border-width': 2, 'border-color': '#BD271E' } },
      { selector: 'node:selected', style: { 'overlay-opacity': 0.2 } },
      large
        ? { selector: 'edge', style: { width: 1.2, 'line-color': '#98A2B3', 'mid-target-arrow-color': '#98A2B3', 'mid-target-arrow-shape': 'triangle', 'curve-style': 'haystack', 'haystack-radius': 0 } }
        : { selector: 'edge', style: { width: 1.2, 'line-color': '#98A2B3', 'target-arrow-color': '#98A2B3', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 7, color: '#69707D' } },
      { selector: 'edge.attack', style: { width: 2.5, 'line-color': '#BD271E', 'target-arrow-color': '#BD271E', 'mid-target-arrow-color': '#BD271E' } },
    ],
    // Every position is set: no layout pass. Small graphs fit with their labels.
    layout: { name: 'preset', fit: !large, padding: 30 },
  });
  if (large) labelsWhenReadable(cy);
  cy.on('tap', 'node', (evt) => props.onSelect(evt.target.id() as string));
  cy.on('tap', (evt) => {
    if (evt.target === cy) props.onSelect(undefined);
  });
  return cy;
}

export function GraphCanvas(props: CanvasProps): React.ReactElement {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const container = ref.current;
    if (!container) return undefined;
    let cy: Core | undefined;
    let left = false;
    props.drawing.layout.then(
      (layout) => {
        if (left) return;
        cy = draw(container, props, layout);
        props.onReady(cy);
      },
      (error: Error) => {
        if (!left) props.onError(error);
      },
    );
    return () => {
      left = true;
      if (!cy) return;
      props.onReady(undefined);
      cy.destroy();
    };
  }, [props.drawing]);
  return h('div', { ref, 'data-test-subj': 'provmonGraphCanvas', role: 'img', 'aria-label': `provenance graph: ${props.nodes.length} nodes, ${props.edges.length} edges (listed in the tables below)`, style: { height: 520, border: '1px solid #D3DAE6', borderRadius: 4 } });
}
