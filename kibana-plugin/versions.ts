/**
 * The Kibana releases the plugin is built for: the one list the build, the zip validation, `provmon ui` and the
 * browser tests read. A Kibana plugin is locked to one exact Kibana version, so each entry yields one zip.
 *
 * `vendor` names the npm packages (aliases in package.json) that stand in for that line's `__kbnSharedDeps__` in
 * `provmon ui` and the browser tests; `sharedDeps` is the externals map of that line (module → global name under
 * `window.__kbnSharedDeps__`): the plugin may import only these from outside its own bundle.
 * Facts from shared/reference/kibana-plugin.md §3.3, §3.4, §8. Versions marked unverified could not be read from a
 * Kibana of that line here (no Kibana can be installed): check `__kbnSharedDeps__.React.version` on a real one.
 */

/** The 8.x externals (kbn-ui-shared-deps-src definitions). */
const SHARED_DEPS_8: Record<string, string> = {
  react: 'React',
  'react-dom': 'ReactDom',
  'react-dom/server': 'ReactDomServer',
  'react-router': 'ReactRouter',
  'react-router-dom': 'ReactRouterDom',
  '@elastic/eui': 'ElasticEui',
  '@elastic/eui-theme-borealis': 'ElasticEuiThemeBorealis',
  '@elastic/charts': 'ElasticCharts',
  '@emotion/react': 'EmotionReact',
  '@emotion/cache': 'EmotionCache',
  rxjs: 'Rxjs',
  lodash: 'Lodash',
  'lodash/fp': 'LodashFp',
  moment: 'Moment',
  'moment-timezone': 'MomentTimezone',
  '@kbn/i18n': 'KbnI18n',
  '@kbn/i18n-react': 'KbnI18nReact',
  classnames: 'Classnames',
  history: 'History',
  uuid: 'Uuid',
  tslib: 'TsLib',
};

/** 9.x adds these (recent main). */
const SHARED_DEPS_9: Record<string, string> = {
  ...SHARED_DEPS_8,
  'react-use': 'ReactUse',
  'chroma-js': 'ChromaJs',
  '@kbn/react-kibana-context-render': 'KbnReactKibanaContextRender',
};

export interface KibanaTarget {
  /** exact Kibana version: the zip's `kibanaVersion` */
  kibanaVersion: string;
  line: string;
  react: string;
  eui: string;
  /** true where the React/EUI versions are the newest known for the line rather than read from its package.json */
  unverified: boolean;
  /** module → npm package directory (node_modules/<dir>) that provides it in provmon ui */
  vendor: Record<string, string>;
  sharedDeps: Record<string, string>;
}

export const KIBANA_TARGETS: readonly KibanaTarget[] = [
  {
    kibanaVersion: '8.19.26',
    line: '8.19',
    react: '17.0.2',
    eui: '104.0.2',
    unverified: true,
    vendor: {
      react: 'react-17',
      'react-dom': 'react-dom-17',
      '@elastic/eui': 'eui-104',
      '@elastic/eui-theme-borealis': 'eui-theme-borealis-3',
    },
    sharedDeps: SHARED_DEPS_8,
  },
  {
    kibanaVersion: '9.5.0',
    line: '9.5',
    react: '18.2.0',
    eui: '116.5.0',
    unverified: true,
    vendor: {
      react: 'react-18',
      'react-dom': 'react-dom-18',
      '@elastic/eui': 'eui-116',
      '@elastic/eui-theme-borealis': 'eui-theme-borealis-8',
    },
    sharedDeps: SHARED_DEPS_9,
  },
];

/** What the plugin's browser bundle takes from `__kbnSharedDeps__` (a subset of every target's sharedDeps). */
export const PLUGIN_EXTERNALS = ['react', 'react-dom', '@elastic/eui'] as const;

export const PLUGIN_ID = 'provmon';
/** The key core reads the browser plugin from. */
export const BUNDLE_KEY = `plugin/${PLUGIN_ID}/public`;

export function targetFor(version: string): KibanaTarget {
  const t = KIBANA_TARGETS.find((x) => x.kibanaVersion === version || x.line === version);
  if (!t) throw new Error(`Kibana ${version} is not a supported target (${KIBANA_TARGETS.map((x) => x.kibanaVersion).join(', ')})`);
  return t;
}
