/**
 * The small HTTP contract the route handlers are written against, so the same handlers run inside Kibana (its
 * router, see plugin.ts) and in `provmon ui` (Bun.serve, sensor/src/ui/): a validated request in, a JSON body out,
 * a RouteError for a 4xx/5xx with a message that names the problem.
 */
import type { EcsEvent } from '../common/ecs.ts';
import type { EventSource } from '../common/graph/source.ts';
import type { FlowsAnswer, FlowsRequest } from '../common/flows/answer.ts';
import type { FlowFilter } from '../common/flows/filter.ts';
import type { OverviewCounts, OverviewWindow } from './overview-route.ts';
import type { NarrativeEndpoint } from '../common/graph/narrative.ts';
import type { EventsAnswer, EventsQuery } from '../common/search/events.ts';

export class RouteError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RouteError';
    this.status = status;
  }
}

export type Validation<T> = { ok: true; value: T } | { ok: false; message: string };
/** A plain-function validator (Kibana accepts these in `validate`; no @kbn/config-schema needed). */
export type Validator<T> = (data: unknown) => Validation<T>;

export interface StoreInfo {
  events: number;
  from?: string;
  to?: string;
}

/** What a handler reads through: the engine's event source over one store, and how to name that store. */
export interface ProvmonStore {
  source: EventSource;
  /** "the local store in /x", "Elasticsearch (logs-provmon.*-*)" */
  where: string;
  descriptor: Record<string, string>;
  info(): Promise<StoreInfo>;
  /** Aggregates flows where the store can (Elasticsearch); without it the flows route reads `source`'s flows. */
  flows?: (filter: FlowFilter, request: FlowsRequest) => Promise<FlowsAnswer>;
  /**
   * Counts and pages events in the store's own index (sqlite, Elasticsearch aggregations) where it can express the
   * query; undefined when it cannot (e.g. free text), and the events route reads `source` instead.
   */
  events?: (query: EventsQuery) => Promise<EventsAnswer | undefined>;
  /** The overview's counts from the store's own index; without it the overview route reads `source`'s window. */
  overview?: (window: OverviewWindow) => Promise<OverviewCounts>;
}

/**
 * What the host hands every handler besides the store: settings from the host's own configuration (kibana.yml
 * in Kibana, the provmon config in `provmon ui`), never from globals. Holds secrets (the narrative API key):
 * handlers use them, answers never carry them.
 */
export interface RouteContext {
  /** the narrative endpoint; undefined: none configured */
  narrative?: NarrativeEndpoint;
}

export interface RouteRequest<Q, P> {
  query: Q;
  params: P;
}

export interface RouteDefinition<Q = unknown, P = unknown> {
  path: string;
  /** one line for the API docs */
  summary: string;
  validate: { query: Validator<Q>; params?: Validator<P> };
  handler(store: ProvmonStore, request: RouteRequest<Q, P>, context: RouteContext): Promise<unknown>;
}

/** Erases a definition's types for a list of routes (each keeps its own inside). */
export function route<Q, P>(def: RouteDefinition<Q, P>): RouteDefinition {
  return def as unknown as RouteDefinition;
}

export type { EcsEvent };
