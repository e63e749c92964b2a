/**
 * `provmon ui`'s HTTP policy: loopback by default, a token off loopback (refused without one), the CSP on every
 * answer, the Host check against DNS rebinding, read-only methods, the routes answered through the same handlers
 * as in Kibana, and the CLI's errors for a bad bind or a missing store.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { MemorySource } from '../../../kibana-plugin/common/graph/source.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import type { UiAssets } from './assets.ts';
import { CSP, checkBind, isLoopback, startUiServer, type RunningUi } from './server.ts';
import type { UiStore } from './store.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const w = syntheticWorkload({ seed: 5, packages: 3, filesPerPackage: 3, requests: 3 });
const source = new MemorySource(w.events);
const store: UiStore = {
  where: 'the test store',
  use: (fn) => fn({ source, where: 'the test store', descriptor: { type: 'memory' }, info: async () => ({ events: w.events.length }) }),
  describe: () => undefined,
  close: async () => undefined,
};
// Bytes to serve; what they contain does not matter to the HTTP policy.
const assets: UiAssets = { target: KIBANA_TARGETS[0]!, pluginVersion: '0.1.0', plugin: '/*plugin*/', sharedDeps: '/*deps*/', loader: '/*loader*/', core: '/*core*/', icon: '<svg/>' };
const servers: RunningUi[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  removeTempDirs();
});

function serve(host: string, token?: string): RunningUi {
  const s = startUiServer({ host, port: 0, assets, store, ...(token ? { token } : {}) });
  servers.push(s);
  return s;
}

describe('bind policy', () => {
  test('loopback needs no token; any other address needs one of 16+ characters', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.168.1.10')).toBe(false);
    expect(() => checkBind('127.0.0.1', undefined)).not.toThrow();
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(/refusing to serve on 0.0.0.0 without a token/);
    expect(() => checkBind('0.0.0.0', 'short')).toThrow(/at least 16 characters/);
    expect(() => startUiServer({ host: '0.0.0.0', port: 0, assets, store })).toThrow(/without a token/);
  });

  test('provmon ui --host 0.0.0.0 without PROVMON_UI_TOKEN exits 2 naming the fix; a missing store exits 1 naming the directory', () => {
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
    const dir = tempDir('provmon-ui-cli-');
    const bind = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'ui', '--events-dir', dir, '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, env });
    expect(bind.exitCode).toBe(2);
    expect(bind.stderr.toString()).toContain('PROVMON_UI_TOKEN');
    const missing = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'ui', '--events-dir', `${dir}/nope`, '--port', '0'], { cwd: ROOT, env });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain(`no local store at ${dir}/nope`);
  });
});

describe('on loopback', () => {
  test('the page and every answer carry a CSP without unsafe-eval or inline script', async () => {
    const s = serve('127.0.0.1');
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toBe(CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain('<script src="/bundles/plugin/provmon/0.1.0/provmon.plugin.js"></script>');
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    const api = await fetch(`${s.url.replace('/app/provmon', '')}/api/provmon/graph?poi=bad`);
    expect(api.headers.get('content-security-policy')).toBe(CSP);
  });

  test('routes answer through the shared handlers; bad input is a 400 naming it; unknown paths a 404', async () => {
    const base = serve('127.0.0.1').url.replace('/app/provmon', '');
    const exfil = `ip:${w.attack!.exfilEndpoint.ip}:${w.attack!.exfilEndpoint.port}`;
    const ok = await fetch(`${base}/api/provmon/graph?poi=${encodeURIComponent(exfil)}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { poi: string }).poi).toBe(exfil);
    const bad = await fetch(`${base}/api/provmon/events?size=100000`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('size: expected a whole number from 500 to 5000');
    const twice = await fetch(`${base}/api/provmon/graph?poi=${encodeURIComponent(exfil)}&poi=x`);
    expect(twice.status).toBe(400);
    const entity = await fetch(`${base}/api/provmon/entity/file/${encodeURIComponent('/no/such/file')}`);
    expect(entity.status).toBe(404);
    const nowhere = await fetch(`${base}/api/provmon/nothing`);
    expect(nowhere.status).toBe(404);
    const post = await fetch(`${base}/api/provmon/graph`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  test('scripts are revalidated by ETag (304 when unchanged, so the browser keeps their compiled code); the page and API answers are not stored', async () => {
    const s = serve('127.0.0.1');
    const bundle = `${s.url.replace('/app/provmon', '')}/bundles/plugin/provmon/0.1.0/provmon.plugin.js`;
    const first = await fetch(bundle);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('/*plugin*/');
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect(first.headers.get('content-security-policy')).toBe(CSP);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-z]+"$/);
    const again = await fetch(bundle, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(bundle, { headers: { 'if-none-match': '"other"' } });
    expect(stale.status).toBe(200);
    const deps = await fetch(`${s.url.replace('/app/provmon', '')}/ui/shared-deps.js`);
    expect(deps.headers.get('etag')).not.toBe(etag);
    expect((await fetch(s.url)).headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${s.url.replace('/app/provmon', '')}/api/provmon/graph?poi=bad`)).headers.get('cache-control')).toBe('no-store');
  });

  test('a Host header that is not a loopback name is refused (DNS rebinding)', async () => {
    const s = serve('127.0.0.1');
    const port = new URL(s.url).port;
    const res = await fetch(`http://127.0.0.1:${port}/app/provmon`, { headers: { host: `evil.example:${port}` } });
    expect(res.status).toBe(421);
  });
});

describe('off loopback, with a token', () => {
  const token = 'a-long-enough-test-token-0123456789';
  test('without the token: 401; with the bearer header or the one-time ?token= cookie: served', async () => {
    const s = serve('0.0.0.0', token);
    const port = new URL(s.url).port;
    // Requests go to loopback only; the server listens on every address.
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/app/provmon`)).status).toBe(401);
    expect((await fetch(`${base}/api/provmon/overview`)).status).toBe(401);
    expect((await fetch(`${base}/api/provmon/overview`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await fetch(`${base}/api/provmon/overview`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const wrong = await fetch(`${base}/app/provmon?token=nope`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${base}/app/provmon/events?token=${token}&q=x`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/app/provmon/events?q=x');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await fetch(`${base}/app/provmon/events?q=x`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
  });
});
