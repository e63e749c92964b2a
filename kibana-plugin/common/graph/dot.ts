/**
 * Graphviz DOT for a provenance graph (`provmon graph --format dot`). Shapes by kind (process box, file note,
 * endpoint diamond, summaries dashed), flagged nodes and edges red with the rule and technique in the tooltip,
 * the attack path bold. Output order follows the graph's arrays, so it is as deterministic as the graph.
 */
import type { GraphEdge, GraphNode, ProvenanceGraph } from './model.ts';

export function toDot(g: Pick<ProvenanceGraph, 'nodes' | 'edges'> & Partial<Pick<ProvenanceGraph, 'poi' | 'direction' | 'stats'>>): string {
  const lines: string[] = [];
  lines.push('digraph provenance {');
  lines.push('  rankdir=LR;');
  lines.push('  node [fontname="Helvetica", fontsize=10];');
  lines.push('  edge [fontname="Helvetica", fontsize=9];');
  if (g.poi) {
    const caption = `${g.direction ?? ''} from ${g.poi}${g.stats ? ` — ${g.stats.nodes} nodes, ${g.stats.edges} edges (before reduction ${g.stats.nodes_before}/${g.stats.edges_before})` : ''}`;
    lines.push(`  label=${quote(caption.trim())};`);
    lines.push('  labelloc=t;');
  }
  for (const n of g.nodes) lines.push(`  ${quote(n.id)} [${attrs(nodeAttrs(n))}];`);
  for (const e of g.edges) lines.push(`  ${quote(e.source)} -> ${quote(e.target)} [${attrs(edgeAttrs(e))}];`);
  // The renaming process is not an end of the rename edge; draw its part dotted so it is not an orphan.
  for (const e of g.edges) if (e.by) lines.push(`  ${quote(e.by)} -> ${quote(e.target)} [${attrs({ style: 'dotted', arrowhead: 'none', label: 'renamed by', color: 'gray40' })}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function nodeAttrs(n: GraphNode): Record<string, string> {
  const a: Record<string, string> = { label: n.label };
  a.shape = n.kind === 'process' ? 'box' : n.kind === 'file' ? 'note' : n.kind === 'channel' ? 'cds' : 'diamond';
  const style: string[] = [];
  if (n.summary) style.push('dashed');
  if (n.poi) style.push('filled');
  if (n.attack_path) style.push('bold');
  if (style.length) a.style = style.join(',');
  if (n.poi) a.fillcolor = 'lightyellow';
  if (n.flags?.length) {
    a.color = severityColour(n.flags.map((f) => f.severity));
    a.tooltip = n.flags.map((f) => `${f.rule}${f.technique ? ` ${f.technique}` : ''}: ${f.reason}`).join('\n');
  }
  return a;
}

function edgeAttrs(e: GraphEdge): Record<string, string> {
  const a: Record<string, string> = { label: `${e.kind}${e.count > 1 ? ` ×${e.count}` : ''}` };
  if (e.attack_path) a.penwidth = '2';
  if (e.flags?.length) {
    a.color = severityColour(e.flags.map((f) => f.severity));
    a.tooltip = e.flags.map((f) => `${f.rule}${f.technique ? ` ${f.technique}` : ''}: ${f.reason}`).join('\n');
  }
  return a;
}

function severityColour(severities: string[]): string {
  if (severities.includes('high')) return 'red';
  if (severities.includes('medium')) return 'orange';
  return 'gray50';
}

function attrs(a: Record<string, string>): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(', ');
}

/** DOT double-quoted string: backslash and quote escaped, newlines as \n. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
