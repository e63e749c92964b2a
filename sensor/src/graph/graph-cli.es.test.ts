/**
 * `provmon graph --es` against the real test node with security on: es_config's basic auth and API key reach the
 * data streams (installed by `provmon setup --core-only`); the graph equals the one from the local store with the
 * same documents; refused credentials, a missing index and an empty pattern are clear errors.
 *
 * The integ-test-zip node cannot create API keys (the .security index needs analysis-common's pattern_capture, see
 * output/elasticsearch/security.es.test.ts): there the API-key test checks that the key from es_config is sent as
 * an API key (the target reads "(API key)") and refused with a clear 401; on a full cluster it reads with a real key.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { ProvenanceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `gcli${process.pid}${Date.now().toString(36)}`;
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };

let node: EsNode;
let client: Client;
let configFile: string;
let apiKey: string | undefined;
let apiKeyError = '';
const w = syntheticWorkload({ seed: 13, packages: 8, filesPerPackage: 8, requests: 8 });
const events: EcsEvent[] = w.events
  .map((e) => ({ ...e, data_stream: { ...e.data_stream, namespace: NS } }))
  // The sensor's DNS documents come from packets and name no process (the dns data stream does not map process.*).
  .map((e) => (e.event.dataset === 'provmon.dns' ? (({ process: _p, ...rest }) => rest as EcsEvent)(e) : e));
const exfil = `ip:${w.attack!.exfilEndpoint.ip}:${w.attack!.exfilEndpoint.port}`;
const localDir = tempDir('provmon-graph-cli-es-');

function provmon(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), ...args], { cwd: ROOT, env: { ...ENV, ...env } });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  node = await testNode('secure');
  client = testClient(node);
  configFile = join(tempDir('provmon-graph-es-cfg-'), 'config.json');
  writeFileSync(configFile, JSON.stringify({ es_config: { es_user: node.username ?? 'elastic', es_password: node.password ?? '' } }), { mode: 0o600 });
  const setup = provmon(['setup', '--config', configFile, '--es', node.url, '--core-only']);
  if (setup.code !== 0) throw new Error(`provmon setup failed: ${setup.stderr}`);
  const body: unknown[] = [];
  for (const e of events) body.push({ create: { _index: `logs-${e.data_stream.dataset}-${NS}`, _id: e.event.id } }, e);
  const r = await client.bulk({ operations: body, refresh: true });
  if (r.errors) throw new Error('bulk failed');
  try {
    // what an analyst's key needs: read the data streams (point-in-time searches included)
    const key = await client.security.createApiKey({
      name: `graph-${NS}`,
      role_descriptors: { provmon_reader: { indices: [{ names: ['logs-provmon.*'], privileges: ['read', 'view_index_metadata'] }] } },
    });
    apiKey = key.encoded;
  } catch (error) {
    apiKeyError = error instanceof Error ? error.message : String(error);
  }
  const store = new LocalStore({ dir: localDir });
  for (const e of events) store.write(e);
  store.close();
});

afterAll(async () => {
  removeTempDirs();
  await client?.close();
});

describe('provmon graph --es', () => {
  test('basic auth from es_config: the same graph as from the local store', () => {
    const es = provmon(['graph', '--config', configFile, '--es', node.url, '--index', `logs-provmon.*-${NS}`, '--poi', exfil]);
    expect(es.stderr).toBe('');
    expect(es.code).toBe(0);
    const local = provmon(['graph', '--events-dir', localDir, '--poi', exfil]);
    expect(local.code).toBe(0);
    const a = JSON.parse(es.stdout) as ProvenanceGraph & { source: Record<string, string> };
    const b = JSON.parse(local.stdout) as ProvenanceGraph & { source: Record<string, string> };
    expect(a.source).toEqual({ type: 'elasticsearch', target: `${node.url} (basic auth as ${node.username ?? 'elastic'})`, index: `logs-provmon.*-${NS}` });
    expect({ ...a, source: null }).toEqual({ ...b, source: null });
    expect(a.edges.some((e) => e.attack_path && e.kind === 'exec')).toBe(true);
  });

  test('an API key from the environment (and the default pattern logs-provmon.*-*)', () => {
    if (apiKey === undefined) {
      expect(apiKeyError).toContain('Unknown filter type [pattern_capture]');
      const fake = Buffer.from('provmonNoSuchKeyId:not-a-real-secret').toString('base64');
      const r = provmon(['graph', '--es', node.url, '--poi', exfil], { PROVMON_ES_CONFIG__API_KEY: fake });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Elasticsearch at ${node.url} (API key) refused the credentials (HTTP 401)`);
      expect(r.stderr).not.toContain(fake);
      return;
    }
    const r = provmon(['graph', '--es', node.url, '--poi', `file:${w.attack!.dropped}`, '--direction', 'forward', '--format', 'dot'], { PROVMON_ES_CONFIG__API_KEY: apiKey });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('forward from file:/tmp/.x.sh');
  });

  test('refused credentials, an empty pattern, nothing matched', () => {
    const bad = provmon(['graph', '--es', node.url, '--poi', exfil], { PROVMON_ES_CONFIG__ES_USER: 'elastic', PROVMON_ES_CONFIG__ES_PASSWORD: 'wrong-password' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`Elasticsearch at ${node.url} (basic auth as elastic) refused the credentials (HTTP 401)`);
    expect(bad.stderr).not.toContain('wrong-password');
    const empty = provmon(['graph', '--config', configFile, '--es', node.url, '--index', 'logs-provmon.*-nosuchnamespace', '--poi', exfil]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('logs-provmon.*-nosuchnamespace holds no events');
    const none = provmon(['graph', '--config', configFile, '--es', node.url, '--index', `logs-provmon.*-${NS}`, '--poi', 'process:1003']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('1003 looks like a pid; entity ids of processes with that pid:');
    expect(none.stderr).toMatch(/process:host-1-1003-\d+ {2}\/usr\/sbin\/nginx/);
  });
});
