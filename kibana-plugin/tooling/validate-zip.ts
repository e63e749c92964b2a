/**
 * Checks a plugin zip the way Kibana treats it: `bin/kibana-plugin install` (entries under kibana/<id>/, the
 * version lock), the manifest parser (known keys only, id, version, owner, server/ui), the browser loader (one
 * `__kbnBundles__.define('plugin/<id>/public', …)`, no chunks, externals only from that line's shared deps, no
 * jsx-runtime, no eval under Kibana's CSP) and server discovery (CommonJS `plugin` export). Returns the problems
 * found, each naming the entry and the rule; an empty list is a valid zip.
 */
import { unzipSync, strFromU8 } from 'fflate';
import { BUNDLE_KEY, PLUGIN_ID, type KibanaTarget } from '../versions.ts';

/** The keys Kibana's parseManifest accepts for a kibana.json (any other key is fatal). */
export const MANIFEST_KEYS = new Set([
  'id',
  'version',
  'kibanaVersion',
  'owner',
  'description',
  'server',
  'ui',
  'type',
  'configPath',
  'requiredPlugins',
  'optionalPlugins',
  'requiredBundles',
  'runtimePluginDependencies',
  'extraPublicDirs',
  'serviceFolders',
  'enabledOnAnonymousPages',
]);

/** The one `@kbn/*` module the server may require at run time (the kibana.yml schema); the browser bundle none. */
export const KBN_CONFIG_SCHEMA = '@kbn/config-schema';

/** Problems of the server module's runtime requires of Kibana's packages. */
export function serverProblems(server: string): string[] {
  const kbn = [...server.matchAll(/require\(\s*["'](@kbn\/[^"']+)["']\s*\)/g)].map((m) => m[1]!);
  const others = [...new Set(kbn.filter((m) => m !== KBN_CONFIG_SCHEMA))];
  const out = others.map((m) => `server/index.js: requires ${m} at run time (only ${KBN_CONFIG_SCHEMA} is allowed, for the config descriptor)`);
  if (kbn.filter((m) => m === KBN_CONFIG_SCHEMA).length > 1) out.push(`server/index.js: requires ${KBN_CONFIG_SCHEMA} more than once`);
  return out;
}

/** semver.coerce for x.y.z[-suffix]: the x.y.z part. */
function coerce(version: string): string | undefined {
  return /(\d+)\.(\d+)\.(\d+)/.exec(version)?.slice(1, 4).join('.');
}

export function manifestProblems(manifest: unknown, kibanaVersion: string): string[] {
  const out: string[] = [];
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) return ['kibana.json: not a JSON object'];
  const m = manifest as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !MANIFEST_KEYS.has(k));
  if (unknown.length) out.push(`kibana.json: contains the following unrecognized properties: ${unknown.join(', ')}`);
  if (typeof m.id !== 'string' || !/^[a-z][a-zA-Z0-9]*$/.test(m.id)) out.push(`kibana.json: id must be a camelCase string without dots, got ${JSON.stringify(m.id)}`);
  if (typeof m.version !== 'string' || !m.version) out.push('kibana.json: version must be a non-empty string');
  const kv = m.kibanaVersion ?? m.version;
  if (typeof kv !== 'string' || coerce(kv) === undefined || coerce(kv) !== coerce(kibanaVersion)) {
    out.push(`kibana.json: kibanaVersion ${JSON.stringify(kv)} is incompatible with Kibana [${kibanaVersion}]`);
  }
  const owner = m.owner as { name?: unknown } | undefined;
  if (!owner || typeof owner !== 'object' || typeof owner.name !== 'string' || !owner.name) out.push('kibana.json: owner.name is required');
  for (const k of ['server', 'ui', 'enabledOnAnonymousPages'] as const) if (m[k] !== undefined && typeof m[k] !== 'boolean') out.push(`kibana.json: ${k} must be a boolean`);
  if (m.server !== true && m.ui !== true) out.push('kibana.json: both "server" and "ui" are missing or false');
  for (const k of ['requiredPlugins', 'optionalPlugins', 'requiredBundles', 'runtimePluginDependencies', 'extraPublicDirs', 'serviceFolders'] as const) {
    const v = m[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) out.push(`kibana.json: ${k} must be an array of strings`);
  }
  if (m.type !== undefined && m.type !== 'standard' && m.type !== 'preboot') out.push('kibana.json: type must be "standard" or "preboot"');
  if (m.configPath !== undefined && typeof m.configPath !== 'string' && !(Array.isArray(m.configPath) && m.configPath.every((x) => typeof x === 'string'))) {
    out.push('kibana.json: configPath must be a string or an array of strings');
  }
  return out;
}

/** `window.__kbnSharedDeps__` globals the bundle reads. */
export function sharedDepsRead(bundle: string): string[] {
  const names = new Set<string>();
  for (const m of bundle.matchAll(/__kbnSharedDeps__(?:\[\s*["']([\w$]+)["']\s*\]|\.([\w$]+))/g)) names.add(m[1] ?? m[2]!);
  return [...names].sort();
}

export function bundleProblems(bundle: string, target: KibanaTarget): string[] {
  const out: string[] = [];
  const defines = [...bundle.matchAll(/__kbnBundles__\.define\(\s*(["'])([^"']*)\1/g)];
  if (defines.length !== 1) out.push(`bundle: expected exactly one __kbnBundles__.define call, found ${defines.length}`);
  else if (defines[0]![2] !== BUNDLE_KEY) out.push(`bundle: defines ${JSON.stringify(defines[0]![2])}, Kibana reads ${JSON.stringify(BUNDLE_KEY)}`);
  if (bundle.includes('react/jsx-runtime') || bundle.includes('jsx-runtime')) out.push('bundle: uses react/jsx-runtime, which Kibana does not share');
  if (/require\(\s*["']@kbn\//.test(bundle)) out.push('bundle: requires @kbn/* (a server-side module) in the browser');
  // A method named eval (vega's expression interpreter defines one: `eval(a,b){…}`, called as `x.eval(…)`) is not
  // the global eval.
  if (/(^|[^.\w$])eval\s*\((?![^()]*\)\s*\{)/.test(bundle)) out.push("bundle: calls eval (Kibana's CSP has no unsafe-eval)");
  // lodash's global lookup ends in `Function("return this")()` after `self`/`global`, so in a browser it is never
  // reached; that one idiom is allowed (the Chromium tests run under the CSP and fail on any eval that runs).
  const withoutGlobalLookup = bundle.replace(/\|\|\s*Function\(\s*["']return this["']\s*\)\(\)/g, '');
  if (/\bnew\s+Function\s*\(|[^.\w$]Function\s*\(\s*["'`]/.test(withoutGlobalLookup)) out.push("bundle: builds code with the Function constructor (Kibana's CSP has no unsafe-eval)");
  if (/__webpack_require__\.e\b|import\(\s*["'`]/.test(bundle)) out.push('bundle: loads chunks at run time');
  const shared = new Set(Object.values(target.sharedDeps));
  for (const name of sharedDepsRead(bundle)) if (!shared.has(name)) out.push(`bundle: reads __kbnSharedDeps__.${name}, which Kibana ${target.line} does not provide`);
  return out;
}

export interface ZipReport {
  problems: string[];
  manifest?: Record<string, unknown>;
  bundle?: string;
  server?: string;
  entries: string[];
}

export function validateZip(bytes: Uint8Array, target: KibanaTarget): ZipReport {
  const problems: string[] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    return { problems: [`not a zip archive: ${(error as Error).message}`], entries: [] };
  }
  const entries = Object.keys(files).sort();
  const manifests = entries.filter((e) => /^kibana\/[^/]+\/kibana\.json$/.test(e));
  if (manifests.length !== 1) return { problems: [`expected one kibana/<id>/kibana.json, found ${manifests.length}`], entries };
  const base = manifests[0]!.slice(0, -'kibana.json'.length);
  for (const e of entries) if (!e.startsWith(base)) problems.push(`${e}: outside ${base} (the installer extracts only the plugin folder)`);
  let manifest: Record<string, unknown> | undefined;
  try {
    manifest = JSON.parse(strFromU8(files[manifests[0]!]!)) as Record<string, unknown>;
  } catch (error) {
    problems.push(`kibana.json: not JSON (${(error as Error).message})`);
  }
  if (manifest) {
    problems.push(...manifestProblems(manifest, target.kibanaVersion));
    if (manifest.kibanaVersion !== target.kibanaVersion) problems.push(`kibana.json: kibanaVersion must be exactly ${target.kibanaVersion} (the installer's version lock), got ${JSON.stringify(manifest.kibanaVersion)}`);
    if (`kibana/${String(manifest.id)}/` !== base) problems.push(`kibana.json: id ${JSON.stringify(manifest.id)} does not match its folder ${base}`);
  }
  const id = manifest?.id ?? PLUGIN_ID;
  const server = files[`${base}server/index.js`];
  if (manifest?.server === true && !server) problems.push(`${base}server/index.js: missing (server: true)`);
  const publicJs = entries.filter((e) => e.startsWith(`${base}target/public/`) && e.endsWith('.js'));
  const bundleName = `${base}target/public/${String(id)}.plugin.js`;
  const bundleBytes = files[bundleName];
  if (manifest?.ui === true && !bundleBytes) problems.push(`${bundleName}: missing (ui: true)`);
  if (publicJs.length > 1) problems.push(`target/public: ${publicJs.length} scripts (${publicJs.join(', ')}); the plugin must be one file, no chunks`);
  if (!entries.some((e) => e.startsWith(`${base}public/assets/`))) problems.push(`${base}public/assets/: missing`);
  const bundle = bundleBytes ? strFromU8(bundleBytes) : undefined;
  if (bundle) problems.push(...bundleProblems(bundle, target));
  const serverText = server ? strFromU8(server) : undefined;
  if (serverText) problems.push(...serverProblems(serverText));
  return { problems, entries, ...(manifest ? { manifest } : {}), ...(bundle ? { bundle } : {}), ...(serverText ? { server: serverText } : {}) };
}
