/**
 * `provmon setup` against the real (minimal) test node: the core profile installs and is idempotent; the full
 * profile refuses with the exact list of what this node lacks; a changed asset is upgraded and the data streams
 * using it are rolled over.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { resolve } from 'node:path';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { realisticDoc } from '../output/elasticsearch/testdata/ecs-docs.ts';
import { esConfig } from '../output/elasticsearch/testdata/es-helpers.ts';
import { buildAssets, defaultAssetOptions } from './assets/index.ts';
import { runSetup } from './setup.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const RUN = `setup-${process.pid}-${Date.now().toString(36)}`;
let node: EsNode;

function provmon(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), ...args], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  node = await testNode('open');
});

describe('provmon setup against the test node', () => {
  test('--core-only installs the templates (or finds them current), then a second run changes nothing', () => {
    const first = provmon('setup', '--es', node.url, '--core-only');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Elasticsearch 8.19.9');
    expect(first.stdout).toContain('profile core (--core-only)');
    expect(first.stdout).not.toMatch(/^\s+upgraded/m);
    for (const name of ['provmon-ecs-base@mappings', 'logs-provmon.flow@settings', 'logs-provmon.process', 'logs-provmon.dns']) expect(first.stdout).toMatch(new RegExp(`(installed|unchanged)\\s+\\S+ template ${name.replace('.', '\\.')} `));
    expect(first.stdout).toMatch(/skipped\s+ingest pipeline logs-provmon\.flow\s+\(--core-only; needs ingest-common processors and painless\)/);
    expect(first.stdout).toMatch(/skipped\s+transform provmon-flow-rollup-1m/);

    const second = provmon('setup', '--es', node.url, '--core-only');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('done: 0 installed, 0 upgraded, 22 unchanged, 17 skipped');
  });

  test('the installed templates are what the assets say, with _meta versions', async () => {
    const client = testClient(node);
    const r = await client.indices.getIndexTemplate({ name: 'logs-provmon.*' });
    const byName = new Map(r.index_templates.map((t) => [t.name, t.index_template]));
    for (const d of ['process', 'file', 'network', 'flow', 'dns', 'audit']) {
      const t = byName.get(`logs-provmon.${d}`)!;
      expect(t.index_patterns).toEqual([`logs-provmon.${d}-*`]);
      expect(t.priority).toBe(250);
      expect(t.data_stream).toBeDefined();
      expect(t._meta?.managed_by).toBe('provmon');
      expect(t._meta?.profile).toBe('core');
    }
    const sim = await client.indices.simulateIndexTemplate({ name: `logs-provmon.flow-${RUN}` });
    const props = sim.template.mappings.properties!;
    expect((props.source as { properties: Record<string, { type: string }> }).properties.ip!.type).toBe('ip');
    expect(sim.template.settings.index?.default_pipeline).toBeUndefined(); // core profile: no pipeline
    await client.close();
  });

  test('without --core-only it refuses and lists exactly what the node lacks and what is lost', () => {
    const r = provmon('setup', '--es', node.url);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const err = r.stderr;
    expect(err).toContain('lacks what the full provmon install needs; nothing was installed');
    for (const p of ['append', 'community_id', 'enrich', 'network_direction', 'pipeline', 'registered_domain', 'remove', 'script', 'set']) {
      expect(err).toMatch(new RegExp(`missing: ingest processor ${p} \\(`));
    }
    expect(err).toContain('lost: event.ingested');
    expect(err).toContain('lost: network.community_id');
    expect(err).toContain('lost: DNS enrichment of flows across hosts');
    expect(err).toContain('missing: painless scripting (module lang-painless)');
    expect(err).toMatch(/missing: index lifecycle management \(x-pack ilm; GET _ilm\/status: HTTP 405\)/);
    expect(err).toContain('lost: retention');
    expect(err).toMatch(/missing: enrich \(x-pack enrich/);
    expect(err).toMatch(/missing: transforms \(x-pack transform/);
    expect(err).toContain('lost: 1-minute flow rollups');
    expect(err).toMatch(/missing: data stream APIs/);
    expect(err).toContain('hint: `provmon setup --core-only`');
  });

  test('a changed asset is upgraded, and data streams using it are rolled over so the change applies', async () => {
    const client = testClient(node);
    const es = esConfig(node, { namespace: RUN.replace(/-/g, '_') });
    await runSetup(es.es_config, { coreOnly: true, print: () => undefined, client });
    // a flow data stream with data in it
    const ds = `logs-provmon.flow-${es.es_config.namespace}`;
    const doc = realisticDoc(8, { run: RUN, namespace: es.es_config.namespace });
    await client.bulk({ operations: [{ create: { _index: ds, _id: doc.event.id } }, doc], refresh: 'wait_for' });
    // pretend an older provmon installed the flow mappings
    const asset = buildAssets(defaultAssetOptions('core')).find((a) => a.name === 'provmon-ecs-flow@mappings')!;
    if (asset.kind !== 'component_template') throw new Error('unexpected asset kind');
    await client.cluster.putComponentTemplate({ name: asset.name, ...asset.body, _meta: { ...asset.body._meta, version: 0 } });

    const lines: string[] = [];
    const result = await runSetup(es.es_config, { coreOnly: true, print: (l) => lines.push(l), client });
    const text = lines.join('\n');
    expect(text).toMatch(/upgraded\s+component template provmon-ecs-flow@mappings\s+\(version 0 → 1\)/);
    expect(text).toMatch(new RegExp(`rolled over\\s+data stream ${ds.replace(/\./g, "\\.")}`));
    expect(result.lines.filter((l) => l.action === 'upgraded')).toHaveLength(1);
    const resolved = await client.indices.resolveIndex({ name: ds });
    expect(resolved.data_streams[0]!.backing_indices.length).toBeGreaterThanOrEqual(2);
    // and now it is current again
    const again = await runSetup(es.es_config, { coreOnly: true, print: () => undefined, client });
    expect(again.lines.filter((l) => l.action !== 'unchanged' && l.action !== 'skipped')).toEqual([]);
    await client.close();
  });

  test('a cluster that cannot be reached, or refuses the credentials, is a clear error', async () => {
    const r = provmon('setup', '--es', 'http://127.0.0.1:9', '--core-only');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Elasticsearch at http://127.0.0.1:9');
    const secure = await testNode('secure');
    const bad = provmon('setup', '--es', secure.url, '--core-only', '--set', 'es_config.es_user=elastic', '--set', 'es_config.es_password=wrong-password');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('rejected the credentials (HTTP 401)');
    expect(bad.stderr).not.toContain('wrong-password');
  });
});
