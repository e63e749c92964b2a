/**
 * The graph drawn with cytoscape and the dagre layered layout, left to right (causes before effects, so time
 * runs left to right along every chain). Shape by node kind, fill by the worst finding's severity, the attack
 * path in red, the point of interest outlined. The canvas is not the only view: the page lists every node and
 * edge in tables beside it.
 */
import cytoscape, { type Core } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import React, { useEffect, useRef } from 'react';
import type { GraphEdge, GraphNode } from '../common/graph/model.ts';
import { h } from './h.ts';


let registered = false;
function ensureDagre(): void {
  // Registered on first draw, not at module load (no side effects when Kibana loads the bundle).
  if (registered) return;
  cytoscape.use(dagre);
  registered = true;
}

const SHAPE: Record<string, string> = { process: 'round-rectangle', file: 'rectangle', channel: 'barrel', endpoint: 'diamond' };
const SEVERITY_COLOUR: Record<string, string> = { high: '#BD271E', medium: '#F5A700', low: '#D6BF57' };
const SEVERITY_RANK: Record<string, number> = { high: 3, medium: 2, low: 1 };

export function severityOf(n: Pick<GraphNode, 'flags'>): string | undefined {
  let best: string | undefined;
  for (const f of n.flags ?? []) if (!best || (SEVERITY_RANK[f.severity] ?? 0) > (SEVERITY_RANK[best] ?? 0)) best = f.severity;
  return best;
}

/** cy.fit() over the nodes' boxes alone: the labels of a large graph are hidden until zoomed in. */
function fitWithoutLabels(cy: Core, padding = 30): void {
  const bb = cy.nodes().boundingBox({ includeLabels: false, includeOverlays: false });
  const w = cy.width();
  const hgt = cy.height();
  if (bb.w <= 0 || bb.h <= 0 || w <= 0 || hgt <= 0) return;
  const zoom = Math.min(cy.maxZoom(), Math.max(cy.minZoom(), Math.min((w - 2 * padding) / bb.w, (hgt - 2 * padding) / bb.h)));
  cy.viewport({ zoom, pan: { x: (w - zoom * (bb.x1 + bb.x2)) / 2, y: (hgt - zoom * (bb.y1 + bb.y2)) / 2 } });
}

export interface CanvasProps {
  nodes: GraphNode[];
  edges: GraphEdge[];
  onSelect(id: string | undefined): void;
  onReady(cy: Core | undefined): void;
}

export function GraphCanvas(props: CanvasProps): React.ReactElement {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return undefined;
    ensureDagre();
    // Large graphs: labels appear only once zoomed in far enough to read them (drawing thousands of unreadable
    // labels is most of the cost), and one device pixel per CSS pixel.
    const large = props.nodes.length + props.edges.length > 600;
    const cy = cytoscape({
      ...(large ? { pixelRatio: 1, hideEdgesOnViewport: true } : {}),
      container: ref.current,
      elements: [
        ...props.nodes.map((n) => ({
          data: { id: n.id, label: n.label.length > 48 ? `…${n.label.slice(-47)}` : n.label, kind: n.kind, colour: SEVERITY_COLOUR[severityOf(n) ?? ''] ?? (n.kind === 'process' ? '#6092C0' : n.kind === 'file' ? '#A8B6C8' : n.kind === 'channel' ? '#B9A888' : '#54B399') },
          classes: [n.poi ? 'poi' : '', n.attack_path ? 'attack' : ''].filter(Boolean).join(' '),
        })),
        ...props.edges.map((e) => ({ data: { id: e.id, source: e.source, target: e.target, label: e.count > 1 ? `${e.kind} ×${e.count}` : e.kind }, classes: e.attack_path ? 'attack' : '' })),
      ],
      style: [
        { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', 'font-size': 9, 'text-valign': 'bottom', 'text-margin-y': 3, width: 26, height: 18, 'min-zoomed-font-size': large ? 8 : 0 } },
        ...Object.entries(SHAPE).map(([kind, shape]) => ({ selector: `node[kind = "${kind}"]`, style: { shape: shape as never } })),
        { selector: 'node.poi', style: { 'border-width': 3, 'border-color': '#000' } },
        { selector: 'node.attack', style: { 'border-width': 2, 'border-color': '#BD271E' } },
        { selector: 'node:selected', style: { 'overlay-opacity': 0.2 } },
        // Large graphs: straight edges (bezier bundles of parallel edges cost most of the time to the first frame;
        // the edge table lists each edge).
        { selector: 'edge', style: { width: 1.2, 'line-color': '#98A2B3', 'target-arrow-color': '#98A2B3', 'target-arrow-shape': 'triangle', 'curve-style': large ? 'straight' : 'bezier', label: large ? '' : 'data(label)', 'font-size': 7, color: '#69707D' } },
        { selector: 'edge.attack', style: { width: 2.5, 'line-color': '#BD271E', 'target-arrow-color': '#BD271E' } },
      ],
      // No layout while the elements are added (the default grid would be laid out and fitted for nothing).
      layout: { name: 'preset', fit: false },
    });
    // Large graphs: one edge per pair of nodes is laid out (parallel edges of other kinds change no rank and
    // multiply the crossing reduction's work), and the viewport fits the nodes without measuring hidden labels.
    const pairs = new Set<string>();
    const laidOut = large
      ? cy.elements().filter((el) => {
          if (el.isNode()) return true;
          const key = `${el.data('source') as string}\u0000${el.data('target') as string}`;
          if (pairs.has(key)) return false;
          pairs.add(key);
          return true;
        })
      : cy.elements();
    // longest-path ranking: network simplex costs much on a thousand nodes and changes little in a provenance graph
    laidOut.layout({ name: 'dagre', rankDir: 'LR', ranker: 'longest-path', nodeSep: 14, rankSep: 60, animate: false, fit: !large } as never).run();
    if (large) fitWithoutLabels(cy);
    cy.on('tap', 'node', (evt) => props.onSelect(evt.target.id() as string));
    cy.on('tap', (evt) => {
      if (evt.target === cy) props.onSelect(undefined);
    });
    props.onReady(cy);
    return () => {
      props.onReady(undefined);
      cy.destroy();
    };
  }, [props.nodes, props.edges]);
  return h('div', { ref, 'data-test-subj': 'provmonGraphCanvas', role: 'img', 'aria-label': `provenance graph: ${props.nodes.length} nodes, ${props.edges.length} edges (listed in the tables below)`, style: { height: 520, border: '1px solid #D3DAE6', borderRadius: 4 } });
}
