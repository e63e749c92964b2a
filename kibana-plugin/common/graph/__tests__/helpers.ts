/** Test helpers: read a graph by labels, which is how a person reads it. */
import type { GraphEdge, GraphNode, ProvenanceGraph } from '../model.ts';

export function labelOf(g: ProvenanceGraph, id: string): string {
  return g.nodes.find((n) => n.id === id)?.label ?? id;
}

/** "kind source-label -> target-label" for every edge. */
export function edgeNames(g: ProvenanceGraph): string[] {
  return g.edges.map((e) => `${e.kind} ${labelOf(g, e.source)} -> ${labelOf(g, e.target)}`);
}

export function nodeLabels(g: ProvenanceGraph): string[] {
  return g.nodes.map((n) => n.label);
}

export function node(g: ProvenanceGraph, label: string): GraphNode | undefined {
  return g.nodes.find((n) => n.label === label);
}

export function edges(g: ProvenanceGraph, kind: GraphEdge['kind'], source: string, target: string): GraphEdge[] {
  return g.edges.filter((e) => e.kind === kind && labelOf(g, e.source) === source && labelOf(g, e.target) === target);
}

/** Is there a directed path (following edges as drawn, or either way for connect/accept) from a to b? */
export function connected(g: ProvenanceGraph, from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  const add = (a: string, b: string) => next.set(a, [...(next.get(a) ?? []), b]);
  for (const e of g.edges) {
    add(e.source, e.target);
    if (e.kind === 'connect' || e.kind === 'accept') add(e.target, e.source);
    if (e.by) add(e.by, e.target);
  }
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === to) return true;
    for (const m of next.get(n) ?? []) if (!seen.has(m)) (seen.add(m), stack.push(m));
  }
  return false;
}

export function flagsOf(g: ProvenanceGraph, label: string): string[] {
  return (node(g, label)?.flags ?? []).map((f) => f.rule).sort();
}
