/**
 * What `provmon ui` serves to the browser, built once with esbuild and cached under build/kibana/ui/:
 * - the plugin's exact bundle, read from the zip `npm run plugin:build` wrote for the chosen Kibana version
 *   (built first when the zip is missing);
 * - `__kbnSharedDeps__` for that Kibana line: React, ReactDOM, EUI, its theme, emotion, moment, lodash at the
 *   line's versions (the npm aliases named in kibana-plugin/versions.ts);
 * - Kibana's bundle loader and the core shim (browser/loader.ts, browser/core.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { BUILD_DIR, buildBrowserScript, buildPlugin, zipName } from '../../../kibana-plugin/tooling/build.ts';
import { sharedDepsExternals } from '../../../kibana-plugin/tooling/externals.ts';
import { PLUGIN_ID, type KibanaTarget } from '../../../kibana-plugin/versions.ts';
import { ProvmonError } from '../errors.ts';
import { prebuiltUiDir } from '../install-layout.ts';

const HERE = import.meta.dir;
const REPO = resolve(HERE, '../../..');

export interface UiAssets {
  target: KibanaTarget;
  pluginVersion: string;
  plugin: string;
  sharedDeps: string;
  loader: string;
  core: string;
  icon: string;
}

/** Shared libraries provided to the page, module → global (EUI's peers included). */
const VENDORED: Record<string, string> = {
  react: 'React',
  'react-dom': 'ReactDom',
  '@elastic/eui': 'ElasticEui',
  '@elastic/eui-theme-borealis': 'ElasticEuiThemeBorealis',
  '@emotion/react': 'EmotionReact',
  '@emotion/cache': 'EmotionCache',
  moment: 'Moment',
  lodash: 'Lodash',
};

function cached(file: string, sources: string[], make: () => Promise<string>): Promise<string> {
  const newest = Math.max(...sources.filter(existsSync).map((s) => statSync(s).mtimeMs));
  if (existsSync(file) && statSync(file).mtimeMs >= newest) return Promise.resolve(readFileSync(file, 'utf8'));
  return make().then((text) => {
    mkdirSync(resolve(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return text;
  });
}

/**
 * Older EUI lines load icons with a computed `require('./assets/' + path)`, which a bundle cannot resolve; Kibana's
 * core fills EUI's icon cache up front for the same reason. Here every icon of the line's map is registered (an
 * EUI whose map holds functions, not paths, needs nothing), from EUI's ES modules like the rest of it.
 */
function iconCacheStatements(target: KibanaTarget): string {
  const dir = join(REPO, 'node_modules', target.vendor['@elastic/eui']!, 'lib', 'components', 'icon');
  const map = createRequire(import.meta.url)(join(dir, 'icon_map.js')) as { typeToPathMap?: Record<string, unknown> };
  const paths = Object.entries(map.typeToPathMap ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
  if (paths.length === 0) return '';
  const imports = paths.map(([, path], i) => `import { icon as icon${i} } from ${JSON.stringify(`@elastic/eui/es/components/icon/assets/${path}`)};`);
  const entries = paths.map(([name], i) => `  ${JSON.stringify(name)}: icon${i},`);
  return `${imports.join('\n')}\nimport { appendIconComponentCache } from '@elastic/eui/es/components/icon/icon';\nappendIconComponentCache({\n${entries.join('\n')}\n});\n`;
}

/** Where the EUI names the page uses are imported: the plugin's browser sources and the core shim. */
function euiImportingSources(): string[] {
  const dir = join(REPO, 'kibana-plugin', 'public');
  return [...readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(dir, f)), join(HERE, 'browser', 'core.ts')];
}

/**
 * Every name the plugin and the core shim import from `@elastic/eui`. provmon ui's shared deps carry only these
 * (EUI's ES modules, tree-shaken: about a third of the whole library, which is most of the page's script to compile
 * and run); Kibana's own shared deps carry all of EUI. An import this cannot read fails the build.
 */
export function euiNamesImported(files: string[] = euiImportingSources()): string[] {
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const all = text.match(/from\s+'@elastic\/eui'/g)?.length ?? 0;
    const named = [...text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'@elastic\/eui'/g)];
    if (named.length !== all) throw new Error(`${file}: an import from @elastic/eui that is not \`import { … }\`: provmon ui's shared deps list EUI's names from these imports`);
    for (const m of named) {
      if (m[1]) continue;
      for (const part of m[2]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0]!;
        if (name && !name.startsWith('type ')) names.add(name);
      }
    }
  }
  return [...names].sort();
}

export async function buildSharedDeps(target: KibanaTarget, options: { minify?: boolean } = {}): Promise<string> {
  const eui = euiNamesImported();
  const entry = `${iconCacheStatements(target)}import { ${eui.join(', ')} } from '@elastic/eui';
window.__kbnSharedDeps__ = Object.assign(window.__kbnSharedDeps__ || {}, {\n${Object.entries(VENDORED)
    .map(([mod, name]) => (mod === '@elastic/eui' ? `  ${name}: { ${eui.join(', ')} },` : `  ${name}: require(${JSON.stringify(mod)}),`))
    .join('\n')}\n});`;
  return buildBrowserScript({
    stdin: { contents: entry, resolveDir: REPO, loader: 'js', sourcefile: `shared-deps-${target.line}.js` },
    minify: options.minify ?? true,
    // EUI registers all of Prism's ~280 languages for EuiCode's highlighting when it loads (a fifth of a second of
    // every page load here); provmon shows no code, so the console's EUI gets refractor's core (markup, CSS, JS; any
    // other language shows as plain text). Kibana's own shared deps are untouched: this is provmon ui's page only.
    alias: { ...target.vendor, refractor: 'refractor/core' },
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}

function buildBrowserModule(file: string, target: KibanaTarget): Promise<string> {
  return buildBrowserScript({ entryPoints: [file], plugins: [sharedDepsExternals(target.sharedDeps, Object.keys(VENDORED))] });
}

/** Newest modification time of the plugin's sources (the zip is rebuilt when it is older). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The plugin bundle from the zip of that version: the bytes Kibana would load. */
async function pluginBundle(target: KibanaTarget): Promise<string> {
  const zip = join(BUILD_DIR, zipName(target));
  const sources = Math.max(...['public', 'common', 'server', 'kibana.json', 'versions.ts'].map((p) => join(REPO, 'kibana-plugin', p)).map((p) => (statSync(p).isDirectory() ? newestSource(p) : statSync(p).mtimeMs)));
  if (!existsSync(zip) || statSync(zip).mtimeMs < sources) await buildPlugin();
  const files = unzipSync(readFileSync(zip));
  const bundle = files[`kibana/${PLUGIN_ID}/target/public/${PLUGIN_ID}.plugin.js`];
  if (!bundle) throw new Error(`${zip} holds no target/public/${PLUGIN_ID}.plugin.js: rebuild it with npm run plugin:build`);
  return strFromU8(bundle);
}

export async function loadAssets(target: KibanaTarget): Promise<UiAssets> {
  const prebuilt = prebuiltUiDir();
  if (prebuilt) return readPrebuiltAssets(prebuilt, target);
  const dir = join(BUILD_DIR, 'ui');
  const lock = join(REPO, 'package-lock.json');
  const [plugin, sharedDeps, loader, core] = await Promise.all([
    pluginBundle(target),
    cached(join(dir, `shared-deps-${target.line}.js`), [lock, import.meta.path, ...euiImportingSources()], () => buildSharedDeps(target)),
    cached(join(dir, 'loader.js'), [join(HERE, 'browser/loader.ts')], () => buildBrowserModule(join(HERE, 'browser/loader.ts'), target)),
    cached(join(dir, `core-${target.line}.js`), [lock, join(HERE, 'browser/core.ts')], () => buildBrowserModule(join(HERE, 'browser/core.ts'), target)),
  ]);
  const manifest = JSON.parse(readFileSync(join(REPO, 'kibana-plugin', 'kibana.json'), 'utf8')) as { version: string };
  return { target, pluginVersion: manifest.version, plugin, sharedDeps, loader, core, icon: readFileSync(join(REPO, 'kibana-plugin/public/assets/provmon.svg'), 'utf8') };
}

/** File names of the prebuilt assets, one folder per Kibana version (packaging/build.sh writes them). */
const PREBUILT_FILES = { plugin: 'plugin.js', sharedDeps: 'shared-deps.js', loader: 'loader.js', core: 'core.js', icon: 'provmon.svg', pluginVersion: 'plugin-version' } as const;

/** Builds the assets of one Kibana version and writes them under dir/<kibana version>/ for the installed package. */
export async function writePrebuiltAssets(dir: string, target: KibanaTarget): Promise<void> {
  const assets = await loadAssets(target);
  const out = join(dir, target.kibanaVersion);
  mkdirSync(out, { recursive: true });
  for (const [key, file] of Object.entries(PREBUILT_FILES)) writeFileSync(join(out, file), assets[key as keyof typeof PREBUILT_FILES]);
}

function readPrebuiltAssets(dir: string, target: KibanaTarget): UiAssets {
  const folder = join(dir, target.kibanaVersion);
  if (!existsSync(folder)) {
    throw new ProvmonError(`the console's assets for Kibana ${target.kibanaVersion} are not installed (${folder})`, {
      hint: `choose a version with --kibana (installed: ${existsSync(dir) ? readdirSync(dir).join(', ') : 'none'}), or reinstall the provmon package`,
    });
  }
  const read = (key: keyof typeof PREBUILT_FILES) => readFileSync(join(folder, PREBUILT_FILES[key]), 'utf8');
  return { target, pluginVersion: read('pluginVersion'), plugin: read('plugin'), sharedDeps: read('sharedDeps'), loader: read('loader'), core: read('core'), icon: read('icon') };
}
