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
        { selector: 'edge', style: { width: 1.2, 'line-color': '#98A2B3', 'target-arrow-color': '#98A2B3', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: large ? '' : 'data(label)', 'font-size': 7, color: '#69707D' } },
        { selector: 'edge.attack', style: { width: 2.5, 'line-color': '#BD271E', 'target-arrow-color': '#BD271E' } },
      ],
      // longest-path ranking: network simplex costs much on a thousand nodes and changes little in a provenance graph
      layout: { name: 'dagre', rankDir: 'LR', ranker: 'longest-path', nodeSep: 14, rankSep: 60, animate: false } as never,
    });
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
