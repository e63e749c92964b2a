/** Kibana loads `server/index.js` (this file, bundled to CommonJS) and calls `plugin(initializerContext)`. */
import { ProvmonServerPlugin, type KibanaInitializerContext } from './plugin.ts';

export function plugin(context: KibanaInitializerContext): ProvmonServerPlugin {
  return new ProvmonServerPlugin(context);
}
