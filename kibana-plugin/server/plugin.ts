/**
 * The Kibana server plugin: registers every route of routes.ts on `core.http.createRouter()` with plain-function
 * validation (no @kbn/config-schema), `security.authz` set (mandatory from 9.1), public access (scripts and curl
 * call them), and reads with the request user's Elasticsearch client (`asCurrentUser`), so Elasticsearch's own
 * privileges on logs-provmon.*-* decide what a user sees.
 *
 * Kibana's types are not available here (no @kbn/* at build time; at run time only @kbn/config-schema, for the
 * kibana.yml settings: kibana-config.ts): the few shapes used are declared below,
 * as shared/reference/kibana-plugin.md §2 documents them.
 *
 * The Offline analysis upload is the one POST: its body is a stream (`output: 'stream', parse: false`) read by the
 * same code as in `provmon ui` (offline/offline-api.ts), and the case is written with the request user's client
 * into the namespace case_<id>. Read routes take `?case=<id>` and then read that case's data streams.
 */
import { EsSearchSource, DEFAULT_INDEX } from '../common/graph/es-source.ts';
import { esFlowsAnswer } from '../common/flows/es-flows.ts';
import { esEventsAnswer } from '../common/search/es-events.ts';
import { clientPitSearch, esStoreInfo, type SearchClient } from '../common/search/es-store.ts';
import { describeNarrative } from '../common/graph/narrative-settings.ts';
import type { Client } from '@elastic/elasticsearch';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describeFailure, type RouteAnswer } from './dispatch.ts';
import type { ProvmonStore, RouteContext, RouteDefinition, Validator } from './http.ts';
import { contextFromConfig } from './kibana-config.ts';
import { caseIndex, CASE_ID_FORM, isCaseId, splitCase } from './offline/case-id.ts';
import { esCaseOutput } from './offline/es-case-output.ts';
import { CaseJobs, DEFAULT_JOB_LIMITS } from './offline/jobs.ts';
import { acceptUpload, caseStatus, OFFLINE_CASE_PATH, OFFLINE_CASES_PATH, type OfflineHost } from './offline/offline-api.ts';
import { DEFAULT_UPLOAD_LIMITS, type UploadLimits } from './offline/upload.ts';
import { ANALYSIS_WORKER_FILE } from './offline/worker-file.ts';
import { ROUTES } from './routes.ts';

interface KibanaValidationResult {
  ok(value: unknown): unknown;
  badRequest(message: string, path?: string[]): unknown;
}
type KibanaValidateFn = (data: unknown, result: KibanaValidationResult) => unknown;

interface KibanaResponseFactory {
  ok(options: { body: unknown }): unknown;
  custom(options: { statusCode: number; body: unknown }): unknown;
  customError(options: { statusCode: number; body: { message: string } }): unknown;
}

interface KibanaRequest {
  query: unknown;
  params: unknown;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
}

interface KibanaContext {
  core: Promise<{ elasticsearch: { client: { asCurrentUser: SearchClient } } }>;
}

type KibanaHandler = (context: KibanaContext, request: KibanaRequest, response: KibanaResponseFactory) => Promise<unknown>;

export interface KibanaRouteConfig {
  path: string;
  validate: { query: KibanaValidateFn; params?: KibanaValidateFn; body?: KibanaValidateFn };
  security: { authz: { enabled: false; reason: string } | { requiredPrivileges: string[] } };
  options: {
    access: 'public' | 'internal';
    summary: string;
    /** the upload: a raw stream of at most maxBytes, parsed by the handler */
    body?: { maxBytes: number; output: 'stream'; parse: false; accepts: string[] };
  };
}

export interface KibanaRouter {
  get(config: KibanaRouteConfig, handler: KibanaHandler): void;
  post(config: KibanaRouteConfig, handler: KibanaHandler): void;
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

/** A read route's query in Kibana: `case` is split off and checked here, the rest goes to the route's validator. */
interface CaseQuery {
  caseId?: string;
  query: unknown;
}

function caseQueryValidate(v: Validator<unknown>): KibanaValidateFn {
  return (data, { ok, badRequest }) => {
    let split: ReturnType<typeof splitCase>;
    try {
      split = splitCase(data);
    } catch (error) {
      return badRequest((error as Error).message);
    }
    const r = v(split.query);
    return r.ok ? ok({ ...(split.caseId ? { caseId: split.caseId } : {}), query: r.value } satisfies CaseQuery) : badRequest(r.message);
  };
}

const answer = (response: KibanaResponseFactory, a: RouteAnswer) =>
  a.status < 300 ? response.custom({ statusCode: a.status, body: a.body }) : response.customError({ statusCode: a.status, body: { message: (a.body as { message: string }).message } });

/** A store over the request user's client; the point in time it opens is closed after the request. */
function requestStore(client: SearchClient, index: string): ProvmonStore & { close(): Promise<void> } {
  const source = new EsSearchSource(clientPitSearch(client), { index });
  return {
    source,
    where: `Elasticsearch (${index})`,
    descriptor: { type: 'elasticsearch', index },
    info: () => esStoreInfo(client, index),
    flows: (filter, request) => esFlowsAnswer(client, filter, request, index),
    events: (query) => esEventsAnswer(client, query, index),
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
        validate: { query: caseQueryValidate(def.validate.query), ...(def.validate.params ? { params: kibanaValidate(def.validate.params) } : {}) },
        security: { authz: { enabled: false, reason: AUTHZ_REASON } },
        options: { access: 'public', summary: def.summary },
      },
      async (context, request, response) => {
        const core = await context.core;
        const { caseId, query } = request.query as CaseQuery;
        const store = requestStore(core.elasticsearch.client.asCurrentUser, caseId ? caseIndex(caseId) : index);
        try {
          return response.ok({ body: await def.handler(store, { query, params: request.params }, host) });
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

export const UPLOAD_AUTHZ_REASON =
  "writes the case into Elasticsearch as the requesting user (asCurrentUser): the user's create_doc and auto_configure privileges on logs-provmon.*-case_* decide";

export interface OfflineOptions {
  limits?: UploadLimits;
  /** parent of the private upload directories (default: the OS temp directory) */
  tmpRoot?: string;
  jobs?: CaseJobs;
  /** the analysis worker's module (default: analysis-worker.js beside this bundle) */
  worker?: string;
}

/**
 * The Offline analysis routes: POST the upload (a stream, never buffered by Kibana), GET a case's job. Jobs live in
 * this Kibana instance's memory; the case itself is in Elasticsearch, readable from any instance with ?case=<id>.
 */
export function registerOfflineRoutes(router: KibanaRouter, o: OfflineOptions = {}): OfflineHost {
  const limits = o.limits ?? DEFAULT_UPLOAD_LIMITS;
  const shared = {
    jobs: o.jobs ?? new CaseJobs(DEFAULT_JOB_LIMITS),
    limits,
    tmpRoot: o.tmpRoot ?? join(tmpdir(), 'provmon-kibana-uploads'),
    // a capture is read synchronously: off Kibana's event loop, in a worker thread
    worker: o.worker ?? join(__dirname, ANALYSIS_WORKER_FILE),
  };
  const noQuery: KibanaValidateFn = (data, { ok, badRequest }) =>
    data && typeof data === 'object' && Object.keys(data).length > 0 ? badRequest(`unknown parameter ${JSON.stringify(Object.keys(data)[0])} (expected none)`) : ok({});
  const sharedHost: OfflineHost = { ...shared, openCase: async () => Promise.reject(new Error('no Elasticsearch client outside a request')) };
  router.post(
    {
      path: OFFLINE_CASES_PATH,
      validate: { query: noQuery, body: (data, { ok }) => ok(data) },
      security: { authz: { enabled: false, reason: UPLOAD_AUTHZ_REASON } },
      options: {
        access: 'public',
        summary: 'upload a capture and audit logs (multipart/form-data: capture, audit…, tolerance, host_name) for offline analysis; answers 202 with the case id',
        body: { maxBytes: limits.maxTotalBytes + 1024 * 1024, output: 'stream', parse: false, accepts: ['multipart/form-data'] },
      },
    },
    async (context, request, response) => {
      const core = await context.core;
      const client = core.elasticsearch.client.asCurrentUser as unknown as Client;
      const host: OfflineHost = {
        ...shared,
        openCase: async (id, workDir) => esCaseOutput(client, id, { dir: workDir, target: 'Elasticsearch (as the requesting user)' }),
      };
      return answer(response, await acceptUpload(host, request.body as Readable, request.headers));
    },
  );
  router.get(
    {
      path: OFFLINE_CASE_PATH,
      validate: {
        query: noQuery,
        params: (data, { ok, badRequest }) => {
          const id = (data as { id?: unknown } | undefined)?.id;
          return isCaseId(id) ? ok({ id }) : badRequest(`id: expected a case id (${CASE_ID_FORM})`);
        },
      },
      security: { authz: { enabled: false, reason: AUTHZ_REASON } },
      options: { access: 'public', summary: "an offline analysis job: phase and progress, then the case's summary or the error" },
    },
    async (_context, request, response) => answer(response, caseStatus(sharedHost, (request.params as { id: string }).id)),
  );
  return sharedHost;
}

export class ProvmonServerPlugin {
  private readonly log: ReturnType<KibanaInitializerContext['logger']['get']>;
  private readonly context: RouteContext;
  private offline: OfflineHost | undefined;

  constructor(context: KibanaInitializerContext) {
    this.log = context.logger.get();
    this.context = contextFromConfig(context.config.get());
  }

  setup(core: KibanaCoreSetup): Record<string, never> {
    const router = core.http.createRouter();
    registerRoutes(router, { context: this.context });
    this.offline = registerOfflineRoutes(router);
    this.log.info(`provmon: ${ROUTES.length + 2} routes registered (${[...ROUTES.map((r) => r.path), `POST ${OFFLINE_CASES_PATH}`, OFFLINE_CASE_PATH].join(', ')})`);
    this.log.info(`provmon: ${describeNarrative(this.context.narrative)}`);
    return {};
  }

  start(): Record<string, never> {
    return {};
  }

  /** Kibana is stopping: a running analysis is stopped and its upload removed. */
  async stop(): Promise<void> {
    await this.offline?.jobs.stop();
  }
}
