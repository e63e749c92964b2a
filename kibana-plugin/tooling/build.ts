/**
 * `npm run plugin:build`: the Kibana plugin zip per supported Kibana version (versions.ts), in the layout
 * `bin/kibana-plugin install` expects:
 *
 *   kibana/provmon/kibana.json                 kibanaVersion = that exact version
 *   kibana/provmon/package.json
 *   kibana/provmon/server/index.js             CommonJS, everything bundled but @kbn/config-schema (Kibana's, for kibana.yml)
 *   kibana/provmon/server/analysis-worker.js   the Offline analysis worker thread, likewise
 *   kibana/provmon/target/public/provmon.plugin.js   one file: __kbnBundles__.define('plugin/provmon/public', …)
 *   kibana/provmon/public/assets/provmon.svg
 *
 * The browser bundle is identical for every version (the plugin imports only externals every line shares); it is
 * built once with esbuild, classic JSX-free React (createElement), no code splitting, no eval.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { BUNDLE_KEY, KIBANA_TARGETS, PLUGIN_EXTERNALS, PLUGIN_ID, type KibanaTarget } from '../versions.ts';
import { ANALYSIS_WORKER_FILE } from '../server/offline/worker-file.ts';
import { sharedDepsExternals } from './externals.ts';
import { KBN_CONFIG_SCHEMA } from './validate-zip.ts';

export const PLUGIN_ROOT = resolve(import.meta.dir, '..');
export const REPO_ROOT = resolve(PLUGIN_ROOT, '..');
export const BUILD_DIR = join(REPO_ROOT, 'build', 'kibana');

/** Externals every supported line shares: the bundle may use only these. */
function commonSharedDeps(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PLUGIN_EXTERNALS) {
    const globals = new Set(KIBANA_TARGETS.map((t) => t.sharedDeps[name]));
    if (globals.size !== 1 || globals.has(undefined)) throw new Error(`${name} is not a shared dep of every supported Kibana line`);
    out[name] = [...globals][0]!;
  }
  return out;
}

/**
 * Keeps code generation out of the bundle, so nothing in it needs unsafe-eval: d3-dsv builds its CSV row converter
 * with the Function constructor (public/no-dsv.ts takes its place: charts carry inline data), and vega-runtime's
 * `codegen` mode builds accessors with it (only used when a spec is parsed without `ast: true`; provmon always
 * parses to an AST for the expression interpreter), so those calls are replaced by a function that throws. The
 * count is checked: a vega upgrade that adds or moves such a call fails the build rather than slip through.
 */
const VEGA_RUNTIME_CODEGEN_CALLS = 3;
const cspSafeVega: Plugin = {
  name: 'provmon-csp-safe-vega',
  setup(b) {
    b.onResolve({ filter: /^d3-dsv$/ }, () => ({ path: join(PLUGIN_ROOT, 'public', 'no-dsv.ts') }));
    b.onLoad({ filter: /vega-runtime[\\/]build[\\/]vega-runtime\.js$/ }, async (args) => {
      const source = await Bun.file(args.path).text();
      const calls = source.match(/\bFunction\(/g)?.length ?? 0;
      if (calls !== VEGA_RUNTIME_CODEGEN_CALLS) {
        return { errors: [{ text: `vega-runtime has ${calls} Function( calls, expected ${VEGA_RUNTIME_CODEGEN_CALLS}: review its codegen paths before bundling it` }] };
      }
      const contents = `${source.replace(/\bFunction\(/g, 'provmonRefusedCodegen(')}
function provmonRefusedCodegen() { throw new Error('vega code generation is disabled in provmon (CSP without unsafe-eval): specs run on the expression interpreter'); }`;
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The layout worker (public/layout-worker.ts and dagre) built on its own, as the text the plugin starts a worker
 * from: the plugin stays one file (no chunks), the worker gets its code from a blob URL.
 */
export async function buildLayoutWorker(options: { minify?: boolean } = {}): Promise<string> {
  return buildBrowserScript({ entryPoints: [join(PLUGIN_ROOT, 'public', 'layout-worker.ts')], minify: options.minify ?? true });
}

/**
 * One script for a browser page (the plugin's bundle, its layout worker, provmon ui's shared deps and core shim):
 * bundled into an IIFE for the browsers both Kibana lines support, minified unless asked otherwise, no licence
 * comments; `options` adds the entry and whatever else the script needs.
 */
export async function buildBrowserScript(options: Omit<BuildOptions, 'write'>): Promise<string> {
  const r = await build({ bundle: true, format: 'iife', platform: 'browser', target: 'es2020', minify: true, legalComments: 'none', logLevel: 'silent', ...options, write: false });
  return r.outputFiles[0]!.text;
}

/** `import layoutWorkerSource from 'provmon:layout-worker'` (public/worker-sources.d.ts) → the worker's code as a string. */
function layoutWorkerText(options: { minify?: boolean }): Plugin {
  return {
    name: 'provmon-layout-worker',
    setup(b) {
      b.onResolve({ filter: /^provmon:layout-worker$/ }, (args) => ({ path: args.path, namespace: 'provmon-worker' }));
      b.onLoad({ filter: /.*/, namespace: 'provmon-worker' }, async () => ({ contents: `export default ${JSON.stringify(await buildLayoutWorker(options))};`, loader: 'js' }));
    },
  };
}

/** `minify: false` keeps names and esbuild's `// module path` lines (bench/ui-draw-profile.ts attributes time by them). */
export async function buildBrowserBundle(options: { minify?: boolean } = {}): Promise<string> {
  const entry = [
    `import * as provmonPublic from ${JSON.stringify(join(PLUGIN_ROOT, 'public', 'index.ts'))};`,
    // The one statement that runs on load: hand core the module (it calls plugin() when it boots).
    `window.__kbnBundles__.define(${JSON.stringify(BUNDLE_KEY)}, function () { return provmonPublic; }, ${JSON.stringify(BUNDLE_KEY)});`,
  ].join('\n');
  return buildBrowserScript({
    stdin: { contents: entry, resolveDir: PLUGIN_ROOT, loader: 'ts', sourcefile: 'provmon-entry.ts' },
    minify: options.minify ?? true,
    splitting: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [layoutWorkerText(options), sharedDepsExternals(commonSharedDeps(), PLUGIN_EXTERNALS), cspSafeVega],
  });
}

async function buildServerEntry(entry: string, external: string[] = []): Promise<string> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Kibana's own, resolved from its node_modules at run time: @kbn/config-schema (kibana-config.ts), and the
    // Elasticsearch client: the request user's client is an instance of Kibana's copy, so its error classes must be
    // the ones `instanceof` checks against, and no second copy ships
    external: [KBN_CONFIG_SCHEMA, '@elastic/elasticsearch', ...external],
    minify: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return r.outputFiles[0]!.text;
}

export function buildServer(): Promise<string> {
  return buildServerEntry(join(PLUGIN_ROOT, 'server', 'index.ts'));
}

/** The offline analysis worker thread (server/analysis-worker.js beside index.js; plugin.ts starts it). */
export function buildAnalysisWorker(): Promise<string> {
  // the local store (bun:sqlite) is loaded only for provmon ui's cases, never in Kibana
  return buildServerEntry(join(PLUGIN_ROOT, '..', 'sensor', 'src', 'analyze', 'worker.ts'), ['bun:sqlite']);
}

export function manifestFor(target: KibanaTarget): Record<string, unknown> {
  const manifest = JSON.parse(readFileSync(join(PLUGIN_ROOT, 'kibana.json'), 'utf8')) as Record<string, unknown>;
  return { ...manifest, kibanaVersion: target.kibanaVersion };
}

export function zipName(target: KibanaTarget): string {
  return `${PLUGIN_ID}-${target.kibanaVersion}.zip`;
}

export interface BuiltPlugin {
  browser: string;
  server: string;
  worker: string;
  zips: { target: KibanaTarget; path: string }[];
}

export async function buildPlugin(outDir = BUILD_DIR): Promise<BuiltPlugin> {
  const [browser, server, worker] = await Promise.all([buildBrowserBundle(), buildServer(), buildAnalysisWorker()]);
  mkdirSync(outDir, { recursive: true });
  const icon = readFileSync(join(PLUGIN_ROOT, 'public', 'assets', 'provmon.svg'));
  const zips: BuiltPlugin['zips'] = [];
  for (const target of KIBANA_TARGETS) {
    const manifest = manifestFor(target);
    const base = `kibana/${PLUGIN_ID}`;
    const files: Record<string, Uint8Array> = {
      [`${base}/kibana.json`]: strToU8(`${JSON.stringify(manifest, null, 2)}\n`),
      [`${base}/package.json`]: strToU8(`${JSON.stringify({ name: PLUGIN_ID, version: manifest.version, private: true, license: 'MIT' }, null, 2)}\n`),
      [`${base}/server/index.js`]: strToU8(server),
      [`${base}/server/${ANALYSIS_WORKER_FILE}`]: strToU8(worker),
      [`${base}/target/public/${PLUGIN_ID}.plugin.js`]: strToU8(browser),
      [`${base}/public/assets/provmon.svg`]: new Uint8Array(icon),
    };
    const path = join(outDir, zipName(target));
    writeFileSync(path, zipSync(files, { level: 9, mtime: new Date('2026-01-01T00:00:00Z') }));
    zips.push({ target, path });
  }
  // The unpacked bundle, for `provmon ui` (the same bytes as in every zip).
  mkdirSync(join(outDir, 'target', 'public'), { recursive: true });
  writeFileSync(join(outDir, 'target', 'public', `${PLUGIN_ID}.plugin.js`), browser);
  return { browser, server, worker, zips };
}

if (import.meta.main) {
  const built = await buildPlugin();
  for (const z of built.zips) process.stdout.write(`${z.path}\n`);
  process.stdout.write(`browser bundle ${(built.browser.length / 1024).toFixed(0)} KiB, server ${(built.server.length / 1024).toFixed(0)} KiB\n`);
}
