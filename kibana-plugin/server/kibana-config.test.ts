/**
 * The Kibana side of the narrative settings, as Kibana would drive it (no Kibana can run here, so these are the
 * contract checks; the route itself runs over real HTTP in sensor/src/ui/narrative-route.test.ts):
 * - the `config` descriptor builds `provmon.enabled` and `provmon.narrative.*` with @kbn/config-schema's builders
 *   (recorded here: Kibana's package is not on npm), only when Kibana reads `config.schema`;
 * - the plugin reads the validated value through `initializerContext.config.get()`, checks it again with the
 *   shared plain function, logs where the narrative goes without the key, and hands it to every handler;
 * - every route, the narrative route included, is registered with authz, plain-function validation and public access.
 */
import { describe, expect, test } from 'bun:test';
import { NARRATIVE_DEFAULTS, readNarrativeSettings } from '../common/graph/narrative-settings.ts';
import { route, type RouteContext } from './http.ts';
import { configDescriptor, configSchema, contextFromConfig, type KbnSchema } from './kibana-config.ts';
import { OFFLINE_CASE_PATH } from './offline/offline-api.ts';
import { ProvmonServerPlugin, registerRoutes, type KibanaRouteConfig } from './plugin.ts';
import { ROUTES } from './routes.ts';

/** Records the builder calls as plain data: what Kibana's schema would be made of. */
const recording: KbnSchema = {
  object: (props, options) => ({ type: 'object', props, ...(options ? { options } : {}) }),
  string: (options) => ({ type: 'string', options }),
  number: (options) => ({ type: 'number', options }),
  boolean: (options) => ({ type: 'boolean', options }),
  literal: (value) => ({ type: 'literal', value }),
  oneOf: (types, options) => ({ type: 'oneOf', types, options }),
};

const KEY = 'sk-kibana-yml-key-77';

function plugin(config: unknown, logs: string[] = []): ProvmonServerPlugin {
  return new ProvmonServerPlugin({ logger: { get: () => ({ info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) }) }, config: { get: <T>() => config as T } });
}

describe('the kibana.yml schema (config descriptor)', () => {
  test('provmon.enabled and provmon.narrative.{url,api,model,timeout_s,api_key} with the provmon config defaults, nothing exposed to the browser', () => {
    expect(configSchema(recording)).toEqual({
      type: 'object',
      props: {
        enabled: { type: 'boolean', options: { defaultValue: true } },
        narrative: {
          type: 'object',
          props: {
            url: { type: 'string', options: { defaultValue: '' } },
            api: { type: 'oneOf', types: [{ type: 'literal', value: 'ollama' }, { type: 'literal', value: 'openai' }], options: { defaultValue: 'ollama' } },
            model: { type: 'string', options: { defaultValue: '' } },
            timeout_s: { type: 'number', options: { defaultValue: 60, min: 1, max: 240 } },
            api_key: { type: 'string', options: { defaultValue: '' } },
          },
        },
      },
    });
    const d = configDescriptor(() => recording);
    expect(Object.keys(d)).toEqual(['schema']);
    expect('exposeToBrowser' in d).toBe(false);
  });

  test('@kbn/config-schema is loaded when Kibana reads config.schema, once', () => {
    let loads = 0;
    const d = configDescriptor(() => (loads++, recording));
    expect(loads).toBe(0);
    const a = d.schema;
    expect(d.schema).toBe(a);
    expect(loads).toBe(1);
  });
});

describe('the plugin reads provmon.narrative through initializerContext.config', () => {
  test('a configured endpoint reaches the handlers; the start-up log names it without the key', async () => {
    const logs: string[] = [];
    const p = plugin({ enabled: true, narrative: { url: 'https://bob:pw@llm.example/v1', api: 'openai', model: 'm1', timeout_s: 30, api_key: KEY } }, logs);
    const registered: { config: KibanaRouteConfig; handler: (...args: unknown[]) => Promise<unknown> }[] = [];
    p.setup({ http: { createRouter: () => ({ get: (config, handler) => registered.push({ config, handler: handler as never }), post: () => undefined }) } });
    expect(registered.map((r) => r.config.path)).toEqual([...ROUTES.map((r) => r.path), OFFLINE_CASE_PATH]);
    expect(registered.map((r) => r.config.path)).toContain('/api/provmon/narrative');
    for (const r of registered) {
      expect(r.config.security.authz).toMatchObject({ enabled: false });
      expect(r.config.options.access).toBe('public');
      expect(typeof r.config.validate.query).toBe('function');
    }
    const narrative = registered.find((r) => r.config.path === '/api/provmon/narrative')!;
    const result = { ok: (v: unknown) => ({ ok: v }), badRequest: (m: string) => ({ bad: m }) };
    expect((narrative.config.validate.query({ poi: 'ip:127.0.0.1:9', max_nodes: 'x' }, result as never) as { bad: string }).bad).toContain('max_nodes');
    expect(logs.join('\n')).toContain('narrative: openai endpoint https://llm.example/v1, model m1, timeout 30 s, api key set');
    expect(logs.join('\n')).not.toContain(KEY);
    expect(logs.join('\n')).not.toContain('bob:pw');
  });

  test('the handler gets the context the plugin was given (not a global)', async () => {
    const probe = route({
      path: '/api/provmon/probe',
      summary: 'probe',
      validate: { query: () => ({ ok: true, value: {} }) },
      handler: async (_store, _request, context: RouteContext) => ({ model: context.narrative?.model, timeoutMs: context.narrative?.timeoutMs }),
    });
    const handlers: ((...args: unknown[]) => Promise<unknown>)[] = [];
    const context = contextFromConfig({ narrative: { ...NARRATIVE_DEFAULTS, url: 'http://127.0.0.1:11434', model: 'llama', timeout_s: 5 } });
    registerRoutes({ get: (_config, handler) => handlers.push(handler as never), post: () => undefined }, { routes: [probe], context });
    const kibanaContext = { core: Promise.resolve({ elasticsearch: { client: { asCurrentUser: {} } } }) };
    const answered = await handlers[0]!(kibanaContext, { query: {}, params: {} }, { ok: (o: { body: unknown }) => o.body, customError: (o: unknown) => ({ error: o }) });
    expect(answered).toEqual({ model: 'llama', timeoutMs: 5000 });
  });

  test('nothing configured: no endpoint, and the log says the summary is the narrative', () => {
    const logs: string[] = [];
    plugin({ enabled: true, narrative: { ...NARRATIVE_DEFAULTS } }, logs).setup({ http: { createRouter: () => ({ get: () => undefined, post: () => undefined }) } });
    expect(logs.join('\n')).toContain('narrative: no endpoint configured');
    expect(contextFromConfig({ narrative: NARRATIVE_DEFAULTS })).toEqual({});
    expect(contextFromConfig(undefined)).toEqual({});
  });

  test('a value Kibana should have refused is refused again, naming the kibana.yml key', () => {
    expect(() => plugin({ narrative: { ...NARRATIVE_DEFAULTS, url: 'ftp://x', model: 'm' } })).toThrow('invalid kibana.yml setting provmon.narrative.url: expected an http:// or https:// URL, got "ftp://x"');
    expect(() => plugin({ narrative: { ...NARRATIVE_DEFAULTS, timeout_s: 100000 } })).toThrow('provmon.narrative.timeout_s: expected a whole number of seconds from 1 to 240');
    expect(() => plugin({ narrative: { ...NARRATIVE_DEFAULTS, apiKey: 'x' } })).toThrow('provmon.narrative.apiKey: unknown key');
  });
});

describe('readNarrativeSettings (the shared plain check)', () => {
  test('defaults for missing keys; each bad value named', () => {
    expect(readNarrativeSettings(undefined)).toEqual({ ok: true, value: NARRATIVE_DEFAULTS });
    expect(readNarrativeSettings({ model: 'x' })).toEqual({ ok: true, value: { ...NARRATIVE_DEFAULTS, model: 'x' } });
    expect(readNarrativeSettings({ api: 'claude' })).toEqual({ ok: false, message: 'narrative.api: expected "ollama" or "openai", got "claude"' });
    expect(readNarrativeSettings({ timeout_s: 1.5 })).toMatchObject({ ok: false });
    expect(readNarrativeSettings({ model: 3 })).toEqual({ ok: false, message: 'narrative.model: expected a string' });
    expect(readNarrativeSettings('x')).toMatchObject({ ok: false });
  });
});
