/**
 * Runs one route for a host (Kibana's router or `provmon ui`): validate the raw query and path parameters with
 * the route's own functions, call the handler, and turn every failure into a status and a message naming the
 * problem. `describe` lets the host name errors of its store (an unreachable cluster, a corrupt index).
 */
import { esStatus } from '../common/search/es-store.ts';
import { RouteError, type ProvmonStore, type RouteContext, type RouteDefinition } from './http.ts';

export interface RouteAnswer {
  status: number;
  body: unknown;
}

export type ErrorDescriber = (error: unknown) => { status: number; message: string } | undefined;

/** An Elasticsearch error as a status and its reason (401/403 pass through; anything else is a bad gateway). */
export function describeEsError(error: unknown): { status: number; message: string } | undefined {
  const status = esStatus(error);
  if (status === undefined) return undefined;
  const body = ((error as { meta?: { body?: unknown } }).meta?.body ?? (error as { body?: unknown }).body) as
    | { error?: { reason?: string; root_cause?: { reason?: string }[] } }
    | undefined;
  const reason = body?.error?.root_cause?.[0]?.reason ?? body?.error?.reason ?? (error as Error).message;
  if (status === 401) return { status: 401, message: `Elasticsearch refused the credentials (HTTP 401): ${reason}` };
  if (status === 403) return { status: 403, message: `Elasticsearch denied the search (HTTP 403): ${reason}` };
  return { status: 502, message: `Elasticsearch answered HTTP ${status}: ${reason}` };
}

export function describeFailure(error: unknown, describe?: ErrorDescriber): { status: number; message: string } {
  if (error instanceof RouteError) return { status: error.status, message: error.message };
  return describe?.(error) ?? describeEsError(error) ?? { status: 500, message: `internal error: ${(error as Error)?.message ?? String(error)}` };
}

export async function dispatch(def: RouteDefinition, store: ProvmonStore, raw: { query: unknown; params: unknown }, describe?: ErrorDescriber, context: RouteContext = {}): Promise<RouteAnswer> {
  const query = def.validate.query(raw.query);
  if (!query.ok) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: `[request query]: ${query.message}` } };
  let params: unknown = {};
  if (def.validate.params) {
    const p = def.validate.params(raw.params);
    if (!p.ok) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: `[request params]: ${p.message}` } };
    params = p.value;
  }
  try {
    return { status: 200, body: await def.handler(store, { query: query.value, params }, context) };
  } catch (error) {
    const f = describeFailure(error, describe);
    return { status: f.status, body: { statusCode: f.status, error: f.status >= 500 ? 'Internal Server Error' : 'Error', message: f.message } };
  }
}
