/** GET /api/provmon/graph: `provmon graph --format json` as a route; parameters named as its long flags. */
import { graphOn, matchedPoi, truncationNotice, type GraphOutput, type GraphParams } from '../common/graph/request.ts';
import { poiToString } from '../common/graph/poi.ts';
import { RouteError, route, type ProvmonStore } from './http.ts';
import { validator } from './params.ts';

export const GRAPH_PARAMS = ['poi', 'direction', 'from', 'to', 'depth', 'reduce', 'max_nodes', 'max_events'] as const;

export const readGraphParams = validator(GRAPH_PARAMS, (p): GraphParams => {
  const poi = p.poi('poi');
  const depth = p.int('depth', 1, 1000);
  const maxNodes = p.int('max_nodes', 1, 100_000);
  const maxEvents = p.int('max_events', 1, 10_000_000);
  return {
    poi,
    direction: p.oneOf('direction', ['backward', 'forward', 'both'] as const) ?? 'backward',
    ...p.window(Date.now()),
    ...(depth ? { depth } : {}),
    ...(maxNodes ? { maxNodes } : {}),
    ...(maxEvents ? { maxEvents } : {}),
    reduce: p.bool('reduce') ?? true,
  };
});

/** Before tracing: a store with no events is a 404 that says so, not an empty graph. */
export async function requireEvents(store: ProvmonStore): Promise<void> {
  const info = await store.info();
  if (info.events === 0) throw new RouteError(404, `${store.where} holds no events`);
}

/** The graph a route answers for its parameters: 404 when nothing matched, `notice` when a bound cut it. */
export async function tracedGraph(store: ProvmonStore, query: GraphParams): Promise<GraphOutput & { notice?: string }> {
  await requireEvents(store);
  const graph = await graphOn(store.source, store.descriptor, query);
  if (!matchedPoi(graph)) {
    const window = query.from || query.to ? ` between ${query.from ?? 'the beginning'} and ${query.to ?? 'the end'}` : '';
    throw new RouteError(404, `nothing matched ${poiToString(query.poi)} in ${store.where}${window}`);
  }
  const notice = truncationNotice(graph.truncated, query, { depth: 'depth', maxNodes: 'max_nodes', maxEvents: 'max_events', window: 'from/to' });
  return notice ? { ...graph, notice } : graph;
}

export const graphRoute = route({
  path: '/api/provmon/graph',
  summary: 'provenance graph from a point of interest (the JSON of provmon graph --format json, plus "notice" when truncated)',
  validate: { query: readGraphParams },
  handler: (store, { query }) => tracedGraph(store, query),
});
