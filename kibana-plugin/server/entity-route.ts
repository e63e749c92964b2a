/**
 * GET /api/provmon/entity/{kind}/{id}: one process (entity id), file (absolute path) or endpoint (ip[:port]) with
 * its events and its neighbours (the graph one step back and forward), for expanding a node in the app.
 */
import type { EcsEvent } from '../common/ecs.ts';
import { checkedPoi, graphOn, matchedPoi, type GraphOutput } from '../common/graph/request.ts';
import type { Poi } from '../common/graph/poi.ts';
import type { EventQuery } from '../common/graph/source.ts';
import { eventTarget } from '../common/search/filter.ts';
import { RouteError, route, type Validation } from './http.ts';
import { requireEvents } from './graph-route.ts';

export const ENTITY_KINDS = ['process', 'file', 'endpoint'] as const;
export const ENTITY_EVENTS = 500;

export interface EntityParams {
  kind: (typeof ENTITY_KINDS)[number];
  id: string;
  poi: Poi;
}

export function readEntityParams(data: unknown): Validation<EntityParams> {
  const d = (data ?? {}) as Record<string, unknown>;
  const kind = d.kind;
  const id = typeof d.id === 'string' ? d.id : '';
  if (typeof kind !== 'string' || !(ENTITY_KINDS as readonly string[]).includes(kind)) {
    return { ok: false, message: `kind: expected ${ENTITY_KINDS.join(' | ')}, got ${JSON.stringify(kind)}` };
  }
  if (!id) return { ok: false, message: 'id: empty' };
  const text = kind === 'process' ? `process:${id}` : kind === 'file' ? `file:${id}` : `ip:${id}`;
  try {
    return { ok: true, value: { kind: kind as EntityParams['kind'], id, poi: checkedPoi(text) } };
  } catch (error) {
    return { ok: false, message: `id: ${(error as Error).message}` };
  }
}

const noQuery = (data: unknown): Validation<Record<string, never>> =>
  data && typeof data === 'object' && Object.keys(data).length > 0 ? { ok: false, message: `unknown parameter ${JSON.stringify(Object.keys(data)[0])} (this route takes none)` } : { ok: true, value: {} };

function selectorOf(poi: Poi): EventQuery {
  switch (poi.kind) {
    case 'process':
      return { entityIds: [poi.entityId] };
    case 'file':
      return { paths: [poi.path] };
    case 'endpoint':
      return { endpoints: [{ ip: poi.ip, ...(poi.port !== undefined ? { port: poi.port } : {}) }] };
    case 'event':
      return { eventIds: [poi.eventId] };
  }
}

export interface EntityAnswer {
  kind: EntityParams['kind'];
  id: string;
  node?: GraphOutput['nodes'][number];
  events: (EcsEvent & { target?: string })[];
  /** more events exist than were returned */
  more: boolean;
  neighbours: Pick<GraphOutput, 'nodes' | 'edges'>;
}

export const entityRoute = route({
  path: '/api/provmon/entity/{kind}/{id}',
  summary: 'one process, file or endpoint: its events (first 500) and its neighbours one step back and forward',
  validate: { query: noQuery, params: readEntityParams },
  async handler(store, { params }) {
    await requireEvents(store);
    const events = await store.source.fetch({ ...selectorOf(params.poi), limit: ENTITY_EVENTS + 1 });
    if (events.length === 0) throw new RouteError(404, `unknown ${params.kind} ${JSON.stringify(params.id)}: no event in ${store.where} names it`);
    const graph = await graphOn(store.source, store.descriptor, { poi: params.poi, direction: 'both', depth: 1, maxNodes: 500, reduce: true });
    const answer: EntityAnswer = {
      kind: params.kind,
      id: params.id,
      ...(matchedPoi(graph) ? { node: graph.nodes.find((n) => n.poi) } : {}),
      events: events.slice(0, ENTITY_EVENTS).map((ev) => {
        const target = eventTarget(ev);
        return target === undefined ? ev : { ...ev, target };
      }),
      more: events.length > ENTITY_EVENTS,
      neighbours: { nodes: graph.nodes, edges: graph.edges },
    };
    return answer;
  },
});

