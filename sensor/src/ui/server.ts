/**
 * `provmon ui`'s HTTP server (Bun.serve): the provmon application at /app/provmon/* (a page that loads the shared
 * deps, Kibana's bundle loader, the plugin's exact bundle and the core shim), the plugin's routes at
 * /api/provmon/* through the same handlers Kibana registers, and nothing else.
 *
 * Security: loopback by default; any other bind address needs a token (refused otherwise), sent as
 * `Authorization: Bearer <token>` or once as `?token=` on a page URL (it then lives in an HttpOnly, SameSite=Strict
 * cookie). On loopback the Host header must name a loopback host (DNS rebinding). Every answer carries a CSP as
 * strict as Kibana's (no unsafe-eval, no inline script). Only GET and HEAD, except the "Offline analysis" upload
 * (POST /api/provmon/offline/cases), which like Kibana requires a `kbn-xsrf` header (a cross-site form cannot send one).
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { dispatch } from '../../../kibana-plugin/server/dispatch.ts';
import { RouteError, type RouteContext, type RouteDefinition } from '../../../kibana-plugin/server/http.ts';
import { splitCase } from '../../../kibana-plugin/server/offline/case-id.ts';
import { acceptUpload, caseStatus, OFFLINE_CASE_PATH, OFFLINE_CASES_PATH } from '../../../kibana-plugin/server/offline/offline-api.ts';
import { ROUTES } from '../../../kibana-plugin/server/routes.ts';
import { BUNDLE_KEY, PLUGIN_ID } from '../../../kibana-plugin/versions.ts';
import { ProvmonError } from '../errors.ts';
import type { UiAssets } from './assets.ts';
import type { UiCases } from './cases.ts';
import type { UiStore } from './store.ts';

export const CSP = [
  "script-src 'self'",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
  "form-action 'self'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const COOKIE = 'provmon_ui_token';

export interface UiServerOptions {
  host: string;
  port: number;
  token?: string;
  assets: UiAssets;
  store: UiStore;
  routes?: readonly RouteDefinition[];
  /** what the handlers get from the provmon config (the narrative endpoint); holds secrets, never logged */
  context?: RouteContext;
  /** the Offline analysis upload and the `case` parameter of the read routes; without it neither is served */
  cases?: UiCases;
  /** why there is no Offline analysis on this server (the upload then answers 503 saying so) */
  casesOff?: string;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** The bind address policy: loopback, or a token of at least 16 characters. */
export function checkBind(host: string, token: string | undefined): void {
  if (isLoopback(host)) return;
  if (!token) {
    throw new ProvmonError(`refusing to serve on ${host} without a token: only loopback is served without one`, {
      hint: 'set PROVMON_UI_TOKEN (or --token) to a long random secret, e.g. PROVMON_UI_TOKEN=$(openssl rand -hex 24), or keep --host 127.0.0.1 and use an SSH tunnel',
      exitCode: 2,
    });
  }
  if (token.length < 16) throw new ProvmonError('the ui token is too short: use at least 16 characters', { exitCode: 2 });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function page(assets: UiAssets): string {
  const boot = JSON.stringify({ bundleKey: BUNDLE_KEY, appId: PLUGIN_ID, kibanaVersion: assets.target.kibanaVersion, pluginVersion: assets.pluginVersion }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>provmon</title><link rel="icon" href="/plugins/${PLUGIN_ID}/assets/provmon.svg">
<script type="application/json" id="provmon-boot">${boot}</script></head>
<body><div id="provmon-chrome"></div><div id="provmon-app"></div>
<script src="/ui/shared-deps.js"></script>
<script src="/ui/loader.js"></script>
<script src="/bundles/plugin/${PLUGIN_ID}/${assets.pluginVersion}/${PLUGIN_ID}.plugin.js"></script>
<script src="/ui/core.js"></script>
</body></html>
`;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' } });
}

function text(body: string, type: string): Response {
  return new Response(body, { headers: { ...SECURITY_HEADERS, 'content-type': type } });
}

/**
 * A script or icon the page loads: kept by the browser and revalidated on every load (no-cache with an ETag, the
 * way Kibana serves its bundles), so an unchanged bundle is neither sent again nor compiled again (Chromium keeps
 * the compiled code of cached scripts). The page and the API answers stay no-store.
 */
function staticAsset(body: string, type: string): (req: Request) => Response {
  const etag = `"${Bun.hash(body).toString(36)}"`;
  const headers = { ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag, 'content-type': type };
  return (req) => (req.headers.get('if-none-match') === etag ? new Response(null, { status: 304, headers }) : new Response(body, { headers }));
}

/** `/api/provmon/entity/{kind}/{id}` → a matcher for a path and its parameters. */
function matcher(path: string): (pathname: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const re = new RegExp(`^${path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return undefined;
    try {
      return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
    } catch {
      return undefined;
    }
  };
}

export interface RunningUi {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startUiServer(o: UiServerOptions): RunningUi {
  checkBind(o.host, o.token);
  const routes = (o.routes ?? ROUTES).map((def) => ({ def, match: matcher(def.path) }));
  const assets = o.assets;
  const html = page(assets);
  const script = 'text/javascript; charset=utf-8';
  const statics: Record<string, (req: Request) => Response> = {
    '/ui/shared-deps.js': staticAsset(assets.sharedDeps, script),
    '/ui/loader.js': staticAsset(assets.loader, script),
    '/ui/core.js': staticAsset(assets.core, script),
    [`/bundles/plugin/${PLUGIN_ID}/${assets.pluginVersion}/${PLUGIN_ID}.plugin.js`]: staticAsset(assets.plugin, script),
    [`/plugins/${PLUGIN_ID}/assets/provmon.svg`]: staticAsset(assets.icon, 'image/svg+xml'),
  };
  const loopback = isLoopback(o.host);
  const caseMatch = matcher(OFFLINE_CASE_PATH);
  const cases = o.cases;

  const authorised = (req: Request): boolean => {
    if (!o.token) return true;
    const header = req.headers.get('authorization');
    if (header?.startsWith('Bearer ') && sameSecret(header.slice(7), o.token)) return true;
    const cookie = /(?:^|;\s*)provmon_ui_token=([^;]+)/.exec(req.headers.get('cookie') ?? '')?.[1];
    return cookie !== undefined && sameSecret(decodeURIComponent(cookie), o.token);
  };

  const context = o.context ?? {};
  const server = Bun.serve({
    hostname: o.host,
    port: o.port,
    // A narrative request is idle while the model thinks: keep its socket open past narrative.timeout_s.
    idleTimeout: Math.min(255, Math.max(10, Math.ceil((context.narrative?.timeoutMs ?? 0) / 1000) + 10)),
    // the upload's own limits answer first, with a message naming the file; this only stops what they never see
    ...(cases ? { maxRequestBodySize: cases.host.limits.maxTotalBytes + 1024 * 1024 } : {}),
    async fetch(req) {
      const url = new URL(req.url);
      const upload = req.method === 'POST' && (cases !== undefined || o.casesOff !== undefined) && url.pathname === OFFLINE_CASES_PATH;
      if (req.method !== 'GET' && req.method !== 'HEAD' && !upload) {
        return json(405, { statusCode: 405, error: 'Method Not Allowed', message: `${req.method} ${url.pathname} is not served: the provmon API is read-only but for POST ${OFFLINE_CASES_PATH}` });
      }
      if (loopback) {
        const host = (req.headers.get('host') ?? '').replace(/:\d+$/, '');
        if (!isLoopback(host)) return json(421, { statusCode: 421, error: 'Misdirected Request', message: `Host ${JSON.stringify(host)} is not a loopback name; provmon ui on loopback answers only localhost, 127.0.0.1 or [::1]` });
      }
      if (o.token && url.searchParams.has('token') && url.pathname.startsWith('/app/')) {
        const given = url.searchParams.get('token') ?? '';
        if (!sameSecret(given, o.token)) return json(401, { statusCode: 401, error: 'Unauthorized', message: 'wrong token' });
        url.searchParams.delete('token');
        return new Response(null, {
          status: 303,
          headers: { ...SECURITY_HEADERS, location: `${url.pathname}${url.search}`, 'set-cookie': `${COOKIE}=${encodeURIComponent(given)}; HttpOnly; SameSite=Strict; Path=/` },
        });
      }
      if (!authorised(req)) return json(401, { statusCode: 401, error: 'Unauthorized', message: 'a token is required: open the page URL with ?token=<token> once, or send Authorization: Bearer <token>' });
      if (url.pathname === '/' || url.pathname === '/app' || url.pathname === '/app/') return Response.redirect(`/app/${PLUGIN_ID}`, 302);
      if (url.pathname === `/app/${PLUGIN_ID}` || url.pathname.startsWith(`/app/${PLUGIN_ID}/`)) return text(html, 'text/html; charset=utf-8');
      const s = statics[url.pathname];
      if (s) return s(req);
      if (upload) {
        if (!req.headers.has('kbn-xsrf')) return json(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' });
        if (!cases) return json(503, { statusCode: 503, error: 'Service Unavailable', message: `the Offline analysis is off on this server: ${o.casesOff}` });
        if (!req.body) return json(400, { statusCode: 400, error: 'Bad Request', message: 'the upload has no body' });
        const answer = await acceptUpload(cases.host, Readable.fromWeb(req.body as unknown as NodeWebStream), Object.fromEntries(req.headers));
        return json(answer.status, answer.body);
      }
      const caseParams = cases ? caseMatch(url.pathname) : undefined;
      if (cases && caseParams) {
        const answer = caseStatus(cases.host, caseParams.id!);
        return json(answer.status, answer.body);
      }
      for (const { def, match } of routes) {
        const params = match(url.pathname);
        if (!params) continue;
        const raw = Object.fromEntries(url.searchParams);
        // A repeated parameter is refused by the validators, not silently collapsed.
        for (const k of new Set(url.searchParams.keys())) if (url.searchParams.getAll(k).length > 1) (raw as Record<string, unknown>)[k] = url.searchParams.getAll(k);
        let split: ReturnType<typeof splitCase>;
        try {
          split = cases ? splitCase(raw) : { query: raw };
        } catch (error) {
          return json(400, { statusCode: 400, error: 'Bad Request', message: `[request query]: ${(error as Error).message}` });
        }
        const { caseId, query } = split;
        const run = (store: Parameters<typeof dispatch>[1]) => dispatch(def, store, { query, params }, caseId ? undefined : o.store.describe, context);
        const answer = await (caseId && cases ? cases.use(caseId, run) : o.store.use(run)).catch((error: unknown) => {
          if (error instanceof RouteError) return { status: error.status, body: { statusCode: error.status, error: 'Error', message: error.message } };
          const f = o.store.describe(error) ?? { status: 500, message: (error as Error).message };
          return { status: f.status, body: { statusCode: f.status, error: 'Error', message: f.message } };
        });
        return json(answer.status, answer.body);
      }
      return json(404, { statusCode: 404, error: 'Not Found', message: `no such page or route: ${url.pathname}` });
    },
  });
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${server.port}/app/${PLUGIN_ID}`,
    port: server.port as number,
    stop: async () => {
      await server.stop(true);
    },
  };
}
