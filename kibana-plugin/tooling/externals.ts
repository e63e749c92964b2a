/**
 * esbuild plugin: imports of Kibana's shared libraries become reads of `window.__kbnSharedDeps__.<Name>`, the way
 * Kibana's optimizer declares them as webpack externals, so the bundle carries no second copy of React or EUI.
 * An import of anything in `allowed` that the target line does not share fails the build.
 */
import type { Plugin } from 'esbuild';

export function sharedDepsExternals(sharedDeps: Record<string, string>, allowed: readonly string[]): Plugin {
  return {
    name: 'kbn-shared-deps',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || args.path.startsWith('.') || args.path.startsWith('/')) return undefined;
        const global = sharedDeps[args.path];
        if (global && allowed.includes(args.path)) return { path: args.path, namespace: 'kbn-shared-deps' };
        if (args.path === 'react/jsx-runtime' || args.path === 'react-dom/client') {
          return { errors: [{ text: `${args.path} is not among Kibana's shared deps: use classic createElement and ReactDOM.render` }] };
        }
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'kbn-shared-deps' }, (args) => ({
        contents: `module.exports = window.__kbnSharedDeps__[${JSON.stringify(sharedDeps[args.path])}];`,
        loader: 'js',
      }));
    },
  };
}
