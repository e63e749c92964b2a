/**
 * GET /api/provmon/narrative: the graph route's graph (same parameters, same reader, same 404s), told by the
 * narrative endpoint the host was configured with: the engine's deterministic summary always, the model's text when
 * it answered within narrative.timeout_s, the reason when it did not. The endpoint is called from the server, so
 * the browser never holds its API key (and Kibana's CSP would not let it call another origin anyway).
 */
import { narrate, type Narrative } from '../common/graph/narrative.ts';
import { readGraphParams, tracedGraph } from './graph-route.ts';
import { route } from './http.ts';

export interface NarrativeAnswer extends Narrative {
  /** the point of interest and direction of the graph told, as the graph route names them */
  poi: string;
  direction: string;
  /** the graph route's truncation notice, when a bound cut the graph the model saw */
  notice?: string;
}

export const narrativeRoute = route({
  path: '/api/provmon/narrative',
  summary: "the graph route's graph as a narrative: the deterministic summary, plus the configured model's text or the reason it is absent",
  validate: { query: readGraphParams },
  async handler(store, { query }, context): Promise<NarrativeAnswer> {
    const graph = await tracedGraph(store, query);
    const narrative = await narrate(graph, context.narrative);
    return { poi: graph.poi, direction: graph.direction, ...narrative, ...(graph.notice ? { notice: graph.notice } : {}) };
  },
});
