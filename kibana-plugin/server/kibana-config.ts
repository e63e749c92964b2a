/**
 * The plugin's kibana.yml settings (`provmon.*`): Kibana's `config` descriptor, whose schema must be built with
 * Kibana's own `@kbn/config-schema` (Kibana duck-types it), and the reading of the validated value for the routes.
 *
 * `@kbn/config-schema` is resolved at run time from Kibana's node_modules, the one runtime require of the server
 * module; it is loaded when Kibana first reads `config.schema`, so the module still loads outside Kibana. Nothing
 * is exposed to the browser (the API key stays on the server).
 */
import { MAX_NARRATIVE_TIMEOUT_S, NARRATIVE_DEFAULTS, narrativeEndpoint, readNarrativeSettings } from '../common/graph/narrative-settings.ts';
import type { RouteContext } from './http.ts';

/** The part of @kbn/config-schema's `schema` used here (its documented builders). */
export interface KbnSchema {
  object(props: Record<string, unknown>, options?: Record<string, unknown>): unknown;
  string(options?: Record<string, unknown>): unknown;
  number(options?: Record<string, unknown>): unknown;
  boolean(options?: Record<string, unknown>): unknown;
  literal(value: string): unknown;
  oneOf(types: unknown[], options?: Record<string, unknown>): unknown;
}

/** `provmon.enabled` and `provmon.narrative.{url,api,model,timeout_s,api_key}`, with the provmon config's defaults. */
export function configSchema(schema: KbnSchema): unknown {
  const d = NARRATIVE_DEFAULTS;
  return schema.object({
    enabled: schema.boolean({ defaultValue: true }),
    narrative: schema.object({
      url: schema.string({ defaultValue: d.url }),
      api: schema.oneOf([schema.literal('ollama'), schema.literal('openai')], { defaultValue: d.api }),
      model: schema.string({ defaultValue: d.model }),
      timeout_s: schema.number({ defaultValue: d.timeout_s, min: 1, max: MAX_NARRATIVE_TIMEOUT_S }),
      api_key: schema.string({ defaultValue: d.api_key }),
    }),
  });
}

export interface ConfigDescriptor {
  readonly schema: unknown;
}

/** Kibana's descriptor; `loadSchema` returns @kbn/config-schema's `schema` (a require inside Kibana). */
export function configDescriptor(loadSchema: () => KbnSchema): ConfigDescriptor {
  let built: unknown;
  return {
    get schema() {
      built ??= configSchema(loadSchema());
      return built;
    },
  };
}

/** The routes' context from the plugin's validated config, checked again by our own function (one shape for both hosts). */
export function contextFromConfig(config: unknown): RouteContext {
  const narrative = (config as { narrative?: unknown } | undefined)?.narrative;
  const checked = readNarrativeSettings(narrative, 'provmon.narrative');
  if (!checked.ok) throw new Error(`invalid kibana.yml setting ${checked.message}`);
  const endpoint = narrativeEndpoint(checked.value);
  return endpoint ? { narrative: endpoint } : {};
}
