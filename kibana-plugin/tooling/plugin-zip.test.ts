/**
 * `npm run plugin:build` produces, per supported Kibana version, a zip that Kibana would install and load:
 * validated by the rules of Kibana's installer, manifest parser and browser loader (validate-zip.ts), then the
 * bundle is evaluated without a DOM (only the define call may happen at load) and the server module is
 * required as CommonJS and asked to register its routes. No Kibana can run here: these are the contract checks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { strFromU8, unzipSync, zipSync, strToU8 } from 'fflate';
import { BUNDLE_KEY, KIBANA_TARGETS, PLUGIN_EXTERNALS } from '../versions.ts';
import { buildPlugin, type BuiltPlugin } from './build.ts';
import { bundleProblems, manifestProblems, serverProblems, sharedDepsRead, validateZip } from './validate-zip.ts';

const ROOT = resolve(import.meta.dir, '../..');
let dir: string;
let built: BuiltPlugin;
const cleanup: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'provmon-plugin-build-'));
  built = await buildPlugin(dir);
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const f of cleanup) rmSync(f, { force: true });
});

describe('the plugin zips', () => {
  test('one zip per supported Kibana version, named provmon-<kibanaVersion>.zip', () => {
    expect(built.zips.map((z) => z.path.slice(dir.length + 1)).sort()).toEqual(KIBANA_TARGETS.map((t) => `provmon-${t.kibanaVersion}.zip`).sort());
  });

  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion}: the zip passes the installer, manifest and loader rules`, () => {
      const z = built.zips.find((x) => x.target === target)!;
      const report = validateZip(readFileSync(z.path), target);
      expect(report.problems).toEqual([]);
      expect(report.manifest!.kibanaVersion).toBe(target.kibanaVersion);
      expect(report.entries).toContain('kibana/provmon/server/index.js');
      expect(report.entries).toContain('kibana/provmon/server/analysis-worker.js');
      expect(report.entries).toContain('kibana/provmon/target/public/provmon.plugin.js');
      expect(report.entries.some((e) => e.startsWith('kibana/provmon/public/assets/'))).toBe(true);
      // Only the externals the plugin declares, each one of that line's shared deps.
      expect(sharedDepsRead(report.bundle!)).toEqual(PLUGIN_EXTERNALS.map((m) => target.sharedDeps[m]!).sort());
    });
  }

  test('the validator refuses what Kibana refuses', () => {
    const target = KIBANA_TARGETS[0]!;
    const good = { id: 'provmon', version: '0.1.0', kibanaVersion: target.kibanaVersion, owner: { name: 'x' }, server: true, ui: true };
    expect(manifestProblems(good, target.kibanaVersion)).toEqual([]);
    expect(manifestProblems({ ...good, $schema: 'x' }, target.kibanaVersion).join()).toContain('unrecognized properties: $schema');
    expect(manifestProblems({ ...good, kibanaVersion: '8.18.0' }, target.kibanaVersion).join()).toContain('incompatible with Kibana');
    expect(manifestProblems({ ...good, id: 'prov-mon' }, target.kibanaVersion).join()).toContain('camelCase');
    expect(manifestProblems({ ...good, owner: undefined }, target.kibanaVersion).join()).toContain('owner.name');
    expect(manifestProblems({ ...good, server: false, ui: false }, target.kibanaVersion).join()).toContain('"server" and "ui"');
    const define = `window.__kbnBundles__.define('${BUNDLE_KEY}', function(){return {}}, '${BUNDLE_KEY}');`;
    expect(bundleProblems(define, target)).toEqual([]);
    expect(bundleProblems(define + define, target).join()).toContain('exactly one');
    expect(bundleProblems(`${define} eval("1")`, target).join()).toContain('eval');
    expect(bundleProblems(`${define} new Function("return 1")`, target).join()).toContain('Function constructor');
    expect(bundleProblems(`${define} require("react/jsx-runtime")`, target).join()).toContain('jsx-runtime');
    expect(bundleProblems(`${define} window.__kbnSharedDeps__.KbnSomethingNew`, target).join()).toContain('does not provide');
    // The server may require Kibana's config schema (the kibana.yml descriptor) and nothing else of @kbn; the browser none.
    expect(bundleProblems(`${define} require("@kbn/config-schema")`, target).join()).toContain('requires @kbn/* (a server-side module) in the browser');
    expect(serverProblems('const s = require("@kbn/config-schema");')).toEqual([]);
    expect(serverProblems('require("@kbn/config-schema"); require("@kbn/std")').join()).toContain('requires @kbn/std at run time');
    // A zip whose files sit outside kibana/<id>/ and whose version is not locked.
    const bad = zipSync({ 'kibana/provmon/kibana.json': strToU8(JSON.stringify({ ...good, kibanaVersion: 'kibana' })), 'provmon/x.js': strToU8('') });
    const problems = validateZip(bad, target).problems.join('\n');
    expect(problems).toContain('outside kibana/provmon/');
    expect(problems).toContain('incompatible with Kibana');
    expect(problems).toContain('target/public/provmon.plugin.js: missing');
  });
});

describe('the browser bundle as Kibana loads it', () => {
  test('loading runs only the define call; core gets a plugin whose setup registers the app provmon', () => {
    const writes: string[] = [];
    const defined: { key: string; fn: (k: string) => unknown; moduleKey: string }[] = [];
    const sharedDeps = new Proxy({}, { get: (_, name) => ({ __shared: String(name) }) });
    const globals: Record<string, unknown> = {
      __kbnBundles__: { define: (key: string, fn: (k: string) => unknown, moduleKey: string) => defined.push({ key, fn, moduleKey }) },
      __kbnSharedDeps__: sharedDeps,
    };
    // window/self/globalThis all point at the recording proxy; no document, no DOM at load time.
    const win: Record<string, unknown> = new Proxy(globals, {
      set(target, name, value) {
        writes.push(String(name));
        target[String(name)] = value;
        return true;
      },
    });
    globals.window = win;
    globals.self = win;
    runInNewContext(built.browser, win, { filename: 'provmon.plugin.js' });
    expect(defined.map((d) => d.key)).toEqual([BUNDLE_KEY]);
    expect(writes).toEqual([]);
    const mod = defined[0]!.fn(defined[0]!.moduleKey) as { plugin: () => { setup(core: unknown): unknown; start(): unknown } };
    expect(typeof mod.plugin).toBe('function');
    const apps: { id: string; mount: unknown }[] = [];
    const instance = mod.plugin();
    instance.setup({ application: { register: (app: { id: string; mount: unknown }) => apps.push(app) }, getStartServices: async () => [] });
    expect(instance.start()).toEqual({});
    expect(apps.map((a) => a.id)).toEqual(['provmon']);
    expect(typeof apps[0]!.mount).toBe('function');
  });
});

describe('the server module as Kibana loads it', () => {
  test('CommonJS plugin(); setup registers every route with authz, plain-function validation and public access', () => {
    // beside the repository's node_modules, as Kibana's are beside an installed plugin (@elastic/elasticsearch is Kibana's)
    const file = join(ROOT, '.cache', `server-index-${process.pid}.cjs`);
    mkdirSync(dirname(file), { recursive: true });
    cleanup.push(file);
    const z = unzipSync(readFileSync(built.zips[0]!.path));
    writeFileSync(file, strFromU8(z['kibana/provmon/server/index.js']!));
    const mod = createRequire(import.meta.url)(file) as { plugin(ctx: unknown): { setup(core: unknown): unknown; start(): unknown } };
    const routes: { method: string; config: Record<string, any>; handler: unknown }[] = [];
    const logs: string[] = [];
    const config = { enabled: true, narrative: { url: '', api: 'ollama', model: '', timeout_s: 60, api_key: '' } };
    const instance = mod.plugin({ logger: { get: () => ({ info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) }) }, config: { get: () => config } });
    const record = (method: string) => (config: Record<string, any>, handler: unknown) => routes.push({ method, config, handler });
    instance.setup({ http: { createRouter: () => ({ get: record('get'), post: record('post') }) } });
    expect(routes.map((r) => `${r.method} ${r.config.path}`).sort()).toEqual([
      'get /api/provmon/entity/{kind}/{id}',
      'get /api/provmon/events',
      'get /api/provmon/flows',
      'get /api/provmon/graph',
      'get /api/provmon/narrative',
      'get /api/provmon/offline/cases/{id}',
      'get /api/provmon/overview',
      'post /api/provmon/offline/cases',
    ]);
    for (const r of routes) {
      expect(r.config.security.authz.enabled).toBe(false);
      expect(r.config.security.authz.reason.length).toBeGreaterThan(10);
      expect(r.config.options.access).toBe('public');
      expect(typeof r.config.validate.query).toBe('function');
      expect(typeof r.handler).toBe('function');
    }
    // Kibana calls validate(data, { ok, badRequest }); a bad value must come back as badRequest naming it.
    const graph = routes.find((r) => r.config.path === '/api/provmon/graph')!;
    const result = { ok: (v: unknown) => ({ ok: v }), badRequest: (m: string) => ({ bad: m }) };
    expect(graph.config.validate.query({ poi: 'ip:nonsense:1' }, result).bad).toContain('poi');
    expect(graph.config.validate.query({ poi: 'ip:127.0.0.1:9', depth: '0' }, result).bad).toContain('depth');
    expect(graph.config.validate.query({ poi: 'ip:127.0.0.1:9' }, result).ok.query.poi).toEqual({ kind: 'endpoint', ip: '127.0.0.1', port: 9 });
    // ?case= is split off before the route's own validator (which refuses unknown parameters), and checked strictly
    expect(graph.config.validate.query({ poi: 'ip:127.0.0.1:9', case: 'abcdefghij234567' }, result).ok.caseId).toBe('abcdefghij234567');
    expect(graph.config.validate.query({ poi: 'ip:127.0.0.1:9', case: '../x' }, result).bad).toContain('case: expected a case id');
    // the upload: a raw stream Kibana neither buffers nor parses, bounded, xsrf left on (the default for POST)
    const upload = routes.find((r) => r.method === 'post')!;
    expect(upload.config.options.body).toEqual({ maxBytes: 4 * 1024 ** 3 + 1024 * 1024, output: 'stream', parse: false, accepts: ['multipart/form-data'] });
    expect(upload.config.options.xsrfRequired).toBeUndefined();
    expect(upload.config.security.authz.reason).toContain('create_doc');
    expect(typeof upload.config.validate.body).toBe('function');
    expect(logs.join()).toContain('8 routes registered');
    expect(logs.join()).toContain('narrative: no endpoint configured');
  });

  test('config: the kibana.yml descriptor requires @kbn/config-schema (from Kibana) only when Kibana reads its schema', () => {
    const server = strFromU8(unzipSync(readFileSync(built.zips[0]!.path))['kibana/provmon/server/index.js']!);
    expect([...server.matchAll(/require\(\s*["'](@kbn\/[^"']+)["']\s*\)/g)].map((m) => m[1])).toEqual(['@kbn/config-schema']);
    // beside the repository's node_modules, as above (@elastic/elasticsearch is Kibana's)
    const file = join(ROOT, '.cache', `server-config-${process.pid}.cjs`);
    mkdirSync(dirname(file), { recursive: true });
    cleanup.push(file);
    writeFileSync(file, server);
    const mod = createRequire(import.meta.url)(file) as { config: { schema: unknown } };
    expect(Object.keys(mod.config)).toEqual(['schema']);
    // Outside Kibana the package is absent: the module loads, and reading the schema says what is missing.
    expect(() => mod.config.schema).toThrow("provmon's kibana.yml settings need @kbn/config-schema, which only Kibana provides at run time");
  });
});
