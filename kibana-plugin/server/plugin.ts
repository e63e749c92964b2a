/**
 * The Kibana server plugin: registers every route of routes.ts on `core.http.createRouter()` with plain-function
 * validation (no @kbn/config-schema), `security.authz` set (mandatory from 9.1), public access (scripts and curl
 * call them), and reads with the request user's Elasticsearch client (`asCurrentUser`), so Elasticsearch's own
 * privileges on logs-provmon.*-* decide what a user sees.
 *
 * Kibana's types are not available here (no @kbn/* at build time; at run time only @kbn/config-schema, for the
 * kibana.yml settings: kibana-config.ts): the few shapes used are declared below,
 * as shared/reference/kibana-plugin.md §2 documents them.
 */
import { EsSearchSource, DEFAULT_INDEX } from '../common/graph/es-source.ts';
import { esFlowsAnswer } from '../common/flows/es-flows.ts';
import { clientPitSearch, esStoreInfo, type SearchClient } from '../common/search/es-store.ts';
import { describeNarrative } from '../common/graph/narrative-settings.ts';
import { describeFailure } from './dispatch.ts';
import type { ProvmonStore, RouteContext, RouteDefinition, Validator } from './http.ts';
import { contextFromConfig } from './kibana-config.ts';
import { ROUTES } from './routes.ts';

interface KibanaValidationResult {
  ok(value: unknown): unknown;
  badRequest(message: string, path?: string[]): unknown;
}
type KibanaValidateFn = (data: unknown, result: KibanaValidationResult) => unknown;

interface KibanaResponseFactory {
  ok(options: { body: unknown }): unknown;
  customError(options: { statusCode: number; body: { message: string } }): unknown;
}

interface KibanaRequest {
  query: unknown;
  params: unknown;
}

interface KibanaContext {
  core: Promise<{ elasticsearch: { client: { asCurrentUser: SearchClient } } }>;
}

type KibanaHandler = (context: KibanaContext, request: KibanaRequest, response: KibanaResponseFactory) => Promise<unknown>;

export interface KibanaRouteConfig {
  path: string;
  validate: { query: KibanaValidateFn; params?: KibanaValidateFn };
  security: { authz: { enabled: false; reason: string } | { requiredPrivileges: string[] } };
  options: { access: 'public' | 'internal'; summary: string };
}

export interface KibanaRouter {
  get(config: KibanaRouteConfig, handler: KibanaHandler): void;
}

export interface KibanaCoreSetup {
  http: { createRouter(): KibanaRouter };
}

export interface KibanaInitializerContext {
  logger: { get(...names: string[]): { info(message: string): void; warn(message: string): void } };
  /** the plugin's kibana.yml settings, already validated against `config.schema` (kibana-config.ts) */
  config: { get<T>(): T };
}

export const AUTHZ_REASON = "reads Elasticsearch as the requesting user (asCurrentUser): the user's index privileges on logs-provmon.*-* decide";

function kibanaValidate(v: Validator<unknown>): KibanaValidateFn {
  return (data, { ok, badRequest }) => {
    const r = v(data);
    return r.ok ? ok(r.value) : badRequest(r.message);
  };
}

/** A store over the request user's client; the point in time it opens is closed after the request. */
function requestStore(client: SearchClient, index: string): ProvmonStore & { close(): Promise<void> } {
  const source = new EsSearchSource(clientPitSearch(client), { index });
  return {
    source,
    where: `Elasticsearch (${index})`,
    descriptor: { type: 'elasticsearch', index },
    info: () => esStoreInfo(client, index),
    flows: (filter, request) => esFlowsAnswer(client, filter, request, index),
    close: () => source.close(),
  };
}

export interface RegisterOptions {
  routes?: readonly RouteDefinition[];
  index?: string;
  /** what every handler gets from the host (the narrative endpoint from kibana.yml) */
  context?: RouteContext;
}

export function registerRoutes(router: KibanaRouter, options: RegisterOptions = {}): void {
  const { routes = ROUTES, index = DEFAULT_INDEX, context: host = {} } = options;
  for (const def of routes) {
    router.get(
      {
        path: def.path,
        validate: { query: kibanaValidate(def.validate.query), ...(def.validate.params ? { params: kibanaValidate(def.validate.params) } : {}) },
        security: { authz: { enabled: false, reason: AUTHZ_REASON } },
        options: { access: 'public', summary: def.summary },
      },
      async (context, request, response) => {
        const core = await context.core;
        const store = requestStore(core.elasticsearch.client.asCurrentUser, index);
        try {
          return response.ok({ body: await def.handler(store, { query: request.query, params: request.params }, host) });
        } catch (error) {
          const f = describeFailure(error);
          return response.customError({ statusCode: f.status, body: { message: f.message } });
        } finally {
          await store.close().catch(() => undefined);
        }
      },
    );
  }
}

export class ProvmonServerPlugin {
  private readonly log: ReturnType<KibanaInitializerContext['logger']['get']>;
  private readonly context: RouteContext;

  constructor(context: KibanaInitializerContext) {
    this.log = context.logger.get();
    this.context = contextFromConfig(context.config.get());
  }

  setup(core: KibanaCoreSetup): Record<string, never> {
    registerRoutes(core.http.createRouter(), { context: this.context });
    this.log.info(`provmon: ${ROUTES.length} routes registered (${ROUTES.map((r) => r.path).join(', ')})`);
    this.log.info(`provmon: ${describeNarrative(this.context.narrative)}`);
    return {};
  }

  start(): Record<string, never> {
    return {};
  }

  stop(): void {}
}
