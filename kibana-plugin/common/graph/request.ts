/**
 * One graph request, as `provmon graph` and `GET /api/provmon/graph` both take it, traced over an open source
 * into the document both print (`provmon graph --format json` is this object).
 */
import { isIpLiteral } from './es-source.ts';
import { traceGraph } from './index.ts';
import type { ProvenanceGraph, TraceDirection, Truncated } from './model.ts';
import { parsePoi, type Poi } from './poi.ts';
import type { EventSource } from './source.ts';

export interface GraphParams {
  poi: Poi;
  direction: TraceDirection;
  from?: string;
  to?: string;
  depth?: number;
  maxNodes?: number;
  maxEvents?: number;
  reduce: boolean;
}

/** The graph as printed and served: the engine's document plus where it came from. */
export interface GraphOutput extends ProvenanceGraph {
  source: Record<string, string>;
  window?: { from?: string; to?: string };
}

export const POI_FORMS = 'process:<entity_id> | file:<absolute path> | ip:<ip>[:<port>] (IPv6 with a port: ip:[::1]:8080) | event:<event.id>';

/** Parses and checks a point of interest; the Error's message names what is wrong. */
export function checkedPoi(text: string): Poi {
  const poi = parsePoi(text);
  if (poi.kind === 'endpoint' && !isIpLiteral(poi.ip)) throw new Error(`${JSON.stringify(poi.ip)} is not an IP address`);
  return poi;
}

export async function graphOn(source: EventSource, descriptor: Record<string, string>, p: GraphParams): Promise<GraphOutput> {
  const g = await traceGraph(source, {
    poi: p.poi,
    direction: p.direction,
    reduce: p.reduce,
    ...(p.from ? { from: p.from } : {}),
    ...(p.to ? { to: p.to } : {}),
    ...(p.depth ? { maxDepth: p.depth } : {}),
    ...(p.maxNodes ? { maxNodes: p.maxNodes } : {}),
    ...(p.maxEvents ? { maxEvents: p.maxEvents } : {}),
  });
  return {
    poi: g.poi,
    direction: g.direction,
    source: descriptor,
    ...(p.from || p.to ? { window: { ...(p.from ? { from: p.from } : {}), ...(p.to ? { to: p.to } : {}) } } : {}),
    nodes: g.nodes,
    edges: g.edges,
    stats: g.stats,
    summary: g.summary,
    truncated: g.truncated,
  };
}

/** Whether the point of interest was found at all. */
export function matchedPoi(g: ProvenanceGraph): boolean {
  return g.stats.events > 0 && g.nodes.some((n) => n.poi);
}

/** "the graph was cut by …" in the parameter names of the caller (flags or query parameters), or undefined. */
export function truncationNotice(t: Truncated, p: Pick<GraphParams, 'depth' | 'maxNodes' | 'maxEvents'>, names: { depth: string; maxNodes: string; maxEvents: string; window: string }): string | undefined {
  const parts: string[] = [];
  if (t.depth) parts.push(`the depth bound (${names.depth} ${p.depth ?? 32})`);
  if (t.nodes) parts.push(`the node budget (${names.maxNodes} ${p.maxNodes ?? 5000})`);
  if (t.events) parts.push(`the event budget (${names.maxEvents} ${p.maxEvents ?? 1_000_000})`);
  if (t.window) parts.push(`the time window (${names.window}): events outside it would have been followed`);
  return parts.length ? `the graph was cut by ${parts.join(', ')}` : undefined;
}
