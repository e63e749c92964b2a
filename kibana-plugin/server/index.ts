/**
 * Kibana loads `server/index.js` (this file, bundled to CommonJS), reads `config` (the kibana.yml schema of
 * `provmon.*`) and calls `plugin(initializerContext)`.
 */
import { configDescriptor, type KbnSchema } from './kibana-config.ts';
import { ProvmonServerPlugin, type KibanaInitializerContext } from './plugin.ts';

/** Kibana's own @kbn/config-schema, resolved from Kibana's node_modules when Kibana reads `config.schema`. */
function kibanaSchema(): KbnSchema {
  try {
    return (require('@kbn/config-schema') as { schema: KbnSchema }).schema;
  } catch (error) {
    throw new Error(`provmon's kibana.yml settings need @kbn/config-schema, which only Kibana provides at run time: ${(error as Error).message}`);
  }
}

export const config = configDescriptor(kibanaSchema);

export function plugin(context: KibanaInitializerContext): ProvmonServerPlugin {
  return new ProvmonServerPlugin(context);
}
