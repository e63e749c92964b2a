/**
 * GET /api/provmon/narrative through `provmon ui`'s real HTTP server (Bun.serve) over a local store holding a
 * capture by the real sensor (testdata/narrative-capture.jsonl: a shell with a bearer token and URL user info on
 * its command line, then a python client with --password and --token= sending to a loopback listener).
 *
 * The model endpoint is a small HTTP server this test runs, speaking the Ollama (/api/chat) and OpenAI
 * (/v1/chat/completions) wire formats: this tests provmon's client and route (what is sent, what is answered, every
 * failure falling back to the summary), not a model; no model runs here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { deterministicSummary } from '../../../kibana-plugin/common/graph/narrative.ts';
import type { GraphOutput } from '../../../kibana-plugin/common/graph/request.ts';
import type { RouteContext } from '../../../kibana-plugin/server/http.ts';
import type { NarrativeAnswer } from '../../../kibana-plugin/server/narrative-route.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { startUi } from '../../../test/support/browser.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import type { UiAssets } from './assets.ts';
import { startUiServer, type RunningUi } from './server.ts';
import { openUiStore, type UiStore } from './store.ts';
import { CAPTURE_FILE, CAPTURE_SECRETS, capturePoi } from './testdata/make-narrative-capture.ts';

const MODEL_TEXT = 'A shell ran python3, which sent /etc/hostname to 127.0.0.1.';
const API_KEY = 'sk-route-test-key-0042';

interface Seen {
  path: string;
  raw: string;
  body: { model: string; messages: { role: string; content: string }[]; stream?: boolean };
  auth: string | null;
}

let mode: 'ok' | 'slow' | 'error' = 'ok';
const seen: Seen[] = [];
let model: ReturnType<typeof Bun.serve>;
let store: UiStore;
let listenerPoi: string;
const servers: RunningUi[] = [];
// Bytes to serve; the route tests never load the page.
const assets: UiAssets = { target: KIBANA_TARGETS[0]!, pluginVersion: '0.1.0', plugin: '/*plugin*/', sharedDeps: '/*deps*/', loader: '/*loader*/', core: '/*core*/', icon: '<svg/>' };

beforeAll(() => {
  const dir = tempDir('provmon-narrative-route-');
  copyFileSync(CAPTURE_FILE, join(dir, 'forensic-events.jsonl'));
  store = openUiStore({ kind: 'local', dir }, () => undefined);
  listenerPoi = capturePoi();
  model = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const raw = await req.text();
      seen.push({ path: url.pathname, raw, body: JSON.parse(raw) as Seen['body'], auth: req.headers.get('authorization') });
      // An endpoint that echoes the credentials it was given: the route must still not pass them on.
      if (mode === 'error') return new Response(`model not loaded (you sent ${req.headers.get('authorization')})`, { status: 500 });
      if (mode === 'slow') await Bun.sleep(3000);
      return Response.json(url.pathname === '/api/chat' ? { model: 'tiny', message: { role: 'assistant', content: MODEL_TEXT }, done: true } : { choices: [{ index: 0, message: { role: 'assistant', content: MODEL_TEXT } }] });
    },
  });
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await model?.stop(true);
  await store?.close();
  removeTempDirs();
});

function ui(context: RouteContext): RunningUi {
  const s = startUiServer({ host: '127.0.0.1', port: 0, assets, store, context });
  servers.push(s);
  return s;
}

async function get(s: RunningUi, path: string, query: Record<string, string>): Promise<{ status: number; text: string; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${s.port}${path}?${new URLSearchParams(query)}`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

const endpoint = (api: 'ollama' | 'openai', extra: Partial<NonNullable<RouteContext['narrative']>> = {}): RouteContext => ({
  narrative: { url: `http://127.0.0.1:${model.port}${api === 'openai' ? '/v1' : ''}`, api, model: 'tiny', timeoutMs: 10_000, ...extra },
});

describe('GET /api/provmon/narrative over a real capture (client test against a local wire-format server, no model)', () => {
  test('Ollama: the model text beside the deterministic summary of the very graph the graph route answers; secrets masked in what the endpoint got', async () => {
    mode = 'ok';
    seen.length = 0;
    const s = ui(endpoint('ollama'));
    const query = { poi: listenerPoi, direction: 'backward' };
    const graph = await get(s, '/api/provmon/graph', query);
    expect(graph.status).toBe(200);
    const r = await get(s, '/api/provmon/narrative', query);
    expect(r.status).toBe(200);
    const a = r.body as NarrativeAnswer;
    expect(a.source).toBe('model');
    expect(a.text).toBe(MODEL_TEXT);
    expect(a.model).toBe('tiny');
    expect(a.reason).toBeUndefined();
    expect(a.poi).toBe(listenerPoi);
    expect(a.summary).toEqual(deterministicSummary(graph.body as GraphOutput));
    expect(a.summary.join('\n')).toContain('python3');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/api/chat');
    expect(seen[0]!.body.model).toBe('tiny');
    expect(seen[0]!.body.stream).toBe(false);
    expect(seen[0]!.auth).toBeNull();
    const sent = seen[0]!.raw;
    expect(sent).toContain('/usr/bin/python3');
    expect(sent).toContain(listenerPoi.slice(3));
    // The graph (what the analyst sees) carries the command lines' secrets; what left for the model does not.
    const carried = CAPTURE_SECRETS.filter((x) => graph.text.includes(x));
    expect(carried.length).toBeGreaterThanOrEqual(2);
    for (const secret of CAPTURE_SECRETS) expect({ secret, sent: sent.includes(secret) }).toEqual({ secret, sent: false });
    expect(sent).toContain('--password');
    expect(sent).toContain('***');
  });

  test('OpenAI-compatible: /v1/chat/completions; the API key only as the Authorization header, never in the answer', async () => {
    mode = 'ok';
    seen.length = 0;
    const s = ui(endpoint('openai', { apiKey: API_KEY }));
    const r = await get(s, '/api/provmon/narrative', { poi: listenerPoi });
    expect(r.status).toBe(200);
    expect((r.body as NarrativeAnswer).text).toBe(MODEL_TEXT);
    expect(seen.map((x) => [x.path, x.auth])).toEqual([['/v1/chat/completions', `Bearer ${API_KEY}`]]);
    expect(seen[0]!.raw).not.toContain(API_KEY);
    expect(r.text).not.toContain(API_KEY);
  });

  test('an endpoint answering HTTP 500 (and echoing the key): the summary, and a reason without the key', async () => {
    mode = 'error';
    const s = ui(endpoint('openai', { apiKey: API_KEY }));
    const r = await get(s, '/api/provmon/narrative', { poi: listenerPoi });
    expect(r.status).toBe(200);
    const a = r.body as NarrativeAnswer;
    expect(a.source).toBe('summary');
    expect(a.text).toBeUndefined();
    expect(a.summary.length).toBeGreaterThan(0);
    expect(a.reason).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions answered HTTP 500: model not loaded \(you sent Bearer \*\*\*\)$/);
    expect(r.text).not.toContain(API_KEY);
  });

  test('endpoint down: the summary, and the reason naming the endpoint', async () => {
    const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const port = closed.port;
    await closed.stop(true);
    const s = ui({ narrative: { url: `http://127.0.0.1:${port}`, api: 'ollama', model: 'tiny', timeoutMs: 10_000 } });
    const a = (await get(s, '/api/provmon/narrative', { poi: listenerPoi })).body as NarrativeAnswer;
    expect(a.source).toBe('summary');
    expect(a.summary.length).toBeGreaterThan(0);
    expect(a.reason).toStartWith(`http://127.0.0.1:${port}/api/chat: `);
    expect(a.model).toBe('tiny');
  });

  test('endpoint slower than narrative.timeout_s: the route gives up and says after how long', async () => {
    mode = 'slow';
    const s = ui(endpoint('ollama', { timeoutMs: 1000 }));
    const a = (await get(s, '/api/provmon/narrative', { poi: listenerPoi })).body as NarrativeAnswer;
    expect(a.source).toBe('summary');
    expect(a.reason).toMatch(/\/api\/chat: timed out after 1 s$/);
    expect(a.summary.length).toBeGreaterThan(0);
  });

  test('no endpoint configured: the summary is the answer, and says so', async () => {
    seen.length = 0;
    const s = ui({});
    const a = (await get(s, '/api/provmon/narrative', { poi: listenerPoi })).body as NarrativeAnswer;
    expect(a).toMatchObject({ source: 'summary', reason: 'no narrative endpoint configured (narrative.url)' });
    expect(a.summary.length).toBeGreaterThan(0);
    expect(seen).toHaveLength(0);
  });

  test("the graph route's parameters and errors: 400 naming the parameter, 404 when nothing matched; the endpoint is not asked", async () => {
    seen.length = 0;
    const s = ui(endpoint('ollama'));
    const bad = await get(s, '/api/provmon/narrative', { poi: listenerPoi, depth: '0' });
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('depth: expected a whole number from 1');
    const unknown = await get(s, '/api/provmon/narrative', { poi: listenerPoi, model: 'other' });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { message: string }).message).toContain('unknown parameter "model"');
    const none = await get(s, '/api/provmon/narrative', { poi: 'ip:10.9.9.9:1' });
    expect(none.status).toBe(404);
    expect((none.body as { message: string }).message).toContain('nothing matched ip:10.9.9.9:1');
    expect(seen).toHaveLength(0);
  });
});

/** What is left to read of a stream (its start may have been read already, so not through a Response). */
async function rest(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += new TextDecoder().decode(value);
  }
}

describe('provmon ui reads narrative.* from its configuration', () => {
  test('PROVMON_NARRATIVE__*: the endpoint is used, the key reaches it only as the Authorization header, and no log line holds it', async () => {
    mode = 'ok';
    seen.length = 0;
    const dir = tempDir('provmon-narrative-cli-');
    copyFileSync(CAPTURE_FILE, join(dir, 'forensic-events.jsonl'));
    const running = await startUi(['--events-dir', dir, '--log-level', 'debug'], {
      PROVMON_NARRATIVE__URL: `http://127.0.0.1:${model.port}/v1`,
      PROVMON_NARRATIVE__API: 'openai',
      PROVMON_NARRATIVE__MODEL: 'tiny',
      PROVMON_NARRATIVE__TIMEOUT_S: '20',
      PROVMON_NARRATIVE__API_KEY: API_KEY,
    });
    let logs = '';
    try {
      const res = await fetch(`${new URL(running.url).origin}/api/provmon/narrative?${new URLSearchParams({ poi: listenerPoi })}`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect((JSON.parse(text) as NarrativeAnswer).text).toBe(MODEL_TEXT);
      expect(text).not.toContain(API_KEY);
      expect(seen.map((x) => x.auth)).toEqual([`Bearer ${API_KEY}`]);
    } finally {
      await running.stop();
      logs = (await rest(running.proc.stdout as ReadableStream<Uint8Array>)) + (await rest(running.proc.stderr as ReadableStream<Uint8Array>));
    }
    expect(logs).toContain('narrative: openai endpoint http://127.0.0.1:');
    expect(logs).toContain('api key set');
    expect(logs).not.toContain(API_KEY);
  }, 120_000);
});
