/**
 * Security on (the 'secure' test node): basic auth and an API key created through the API both deliver; a wrong
 * key gives a clear error and the documents wait in the spool, to be delivered once valid credentials are set.
 *
 * The integ-test-zip node cannot create API keys: they live in the .security system index, whose settings use the
 * `pattern_capture` token filter of the analysis-common module, which the zip leaves out (POST _security/api_key
 * answers 400 "Unknown filter type [pattern_capture] for [email]"). On such a node the API-key test checks exactly
 * that failure, and that Elasticsearch reads the output's Authorization header as an API key (its 401 names the
 * key id); against a full cluster (PROVMON_TEST_ES_SECURE_URL=http://elastic:<password>@host:port) it delivers with a real key.
 */
import type { Client, errors } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { testClient, testNode, type EsNode } from '../../../../test/support/es.ts';
import { runSetup } from '../../setup/setup.ts';
import { createClient } from './client.ts';
import { createElasticsearchOutput } from './output.ts';
import { realisticDocs } from './testdata/ecs-docs.ts';
import { allIds, removeTempDirs, captureLog, esConfig, tempDirs } from './testdata/es-helpers.ts';

setDefaultTimeout(180_000);

const RUN = `sec${process.pid}x${Date.now().toString(36)}`;
let node: EsNode;
let admin: Client;
let apiKey: string | undefined;
let apiKeyError = '';

/** The secure test node, or a full cluster named by PROVMON_TEST_ES_SECURE_URL (credentials of user elastic in the URL). */
async function secureNode(): Promise<EsNode> {
  const raw = process.env.PROVMON_TEST_ES_SECURE_URL;
  if (!raw) return testNode('secure');
  const u = new URL(raw);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const url = u.toString().replace(/\/$/, '');
  return { name: 'external', url, security: true, username: 'elastic', password, pid: 0, dir: '', port: Number(u.port), logFile: '', stateFile: '', stop: async () => undefined };
}

beforeAll(async () => {
  node = await secureNode();
  admin = testClient(node);
  await runSetup(esConfig(node).es_config, { coreOnly: true, print: () => undefined });
  // the key a sensor would get: write into provmon's data streams, nothing else
  try {
    const key = await admin.security.createApiKey({
      name: `provmon-sensor-${RUN}`,
      role_descriptors: {
        provmon_writer: { cluster: ['monitor'], indices: [{ names: ['logs-provmon.*'], privileges: ['create_doc', 'auto_configure'] }] },
      },
    });
    apiKey = key.encoded;
  } catch (error) {
    apiKeyError = error instanceof Error ? error.message : String(error);
  }
});

afterAll(async () => {
  removeTempDirs();
  await admin?.close();
});

describe('Elasticsearch output with security on', () => {
  test('basic auth (elastic user) delivers', async () => {
    const ns = `${RUN}basic`;
    const out = createElasticsearchOutput(esConfig(node, { namespace: ns }), tempDirs('es-basic'));
    const docs = realisticDocs(2000, { run: `${RUN}b`, namespace: ns });
    for (const d of docs) out.write(d);
    await out.close();
    expect(out.stats().indexed).toBe(2000);
    expect((await allIds(admin, `logs-provmon.*-${ns}`)).length).toBe(2000);
  });

  test('an API key created through the API delivers (or the node says why it cannot create one)', async () => {
    if (apiKey === undefined) {
      expect(apiKeyError).toContain('Unknown filter type [pattern_capture]');
      return;
    }
    const ns = `${RUN}key`;
    const config = esConfig(node, { namespace: ns, api_key: apiKey, es_user: '', es_password: '' });
    const out = createElasticsearchOutput(config, tempDirs('es-key'));
    const docs = realisticDocs(2000, { run: `${RUN}k`, namespace: ns });
    for (const d of docs) out.write(d);
    await out.close();
    expect(out.stats().indexed).toBe(2000);
    expect((await allIds(admin, `logs-provmon.*-${ns}`)).sort()).toEqual(docs.map((d) => d.event.id).sort());
  });

  test('a wrong API key: a clear error, nothing lost; the spool is delivered once the right key is configured', async () => {
    const ns = `${RUN}wrong`;
    const dirs = tempDirs('es-wrong');
    const wrongKey = Buffer.from('nope-id:not-the-key').toString('base64');
    const log = captureLog();
    const bad = createElasticsearchOutput(esConfig(node, { namespace: ns, api_key: wrongKey, es_user: '', es_password: '' }), dirs, log);
    const docs = realisticDocs(3000, { run: `${RUN}w`, namespace: ns });
    for (const d of docs) bad.write(d);
    await bad.flush();
    const s = bad.stats();
    expect(s.indexed).toBe(0);
    expect(s.spool_docs).toBe(3000);
    expect(s.dropped).toBe(0);
    expect(bad.sink.lastError).toContain('rejected the credentials (HTTP 401');
    expect(bad.sink.lastError).toContain('es_config.api_key');
    const logged = log.lines.join('\n');
    expect(logged).toContain('rejected the credentials (HTTP 401');
    expect(logged).toContain('spooling documents to disk');
    expect(logged).not.toContain(wrongKey);
    expect(logged).not.toContain('not-the-key');
    await bad.close();

    // Elasticsearch took the header for an API key (and says which id failed): the output sends API keys right
    const probe = createClient(esConfig(node, { api_key: wrongKey, es_user: '', es_password: '' }).es_config);
    const failure = await probe.security.authenticate().then(
      () => 'authenticated?!',
      (e: errors.ResponseError) => JSON.stringify(e.body),
    );
    await probe.close();
    expect(failure).toContain('API key: apikey authentication for id nope-id');

    // the operator fixes the credentials and restarts the sensor: the spool is replayed
    const fixed = apiKey !== undefined ? { api_key: apiKey, es_user: '', es_password: '' } : {};
    const good = createElasticsearchOutput(esConfig(node, { namespace: ns, ...fixed }), dirs);
    expect(await good.sink.drain(60_000)).toBe(true);
    expect(good.stats().replayed).toBe(3000);
    await good.close();
    expect((await allIds(admin, `logs-provmon.*-${ns}`)).sort()).toEqual(docs.map((d) => d.event.id).sort());
  });
});
