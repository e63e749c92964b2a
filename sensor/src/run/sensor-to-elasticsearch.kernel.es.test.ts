/**
 * The real sensor writing real captured events into a real Elasticsearch node (needs root for eBPF, and the test
 * node): after `provmon setup --core-only`, documents land in the data streams, are searchable by their ECS fields,
 * and with JSONL copies enabled the counts in Elasticsearch equal the counts in the files.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { startSensor } from '../../../test/support/sensor.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('provmon run into Elasticsearch (root, kernel BPF, real node)', () => {
  let node: EsNode;
  let client: Client;
  let copies: EcsEvent[];
  let marker: string;
  // Its own namespace: the test node is shared with other test files that write provmon documents too.
  const ns = `sensorrun${process.pid}`;

  beforeAll(async () => {
    node = await testNode('open');
    client = testClient(node);
    const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--core-only', '--es', node.url, '--log-format', 'json']);
    if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stderr.toString()}`);
    const eventsDir = mkdtempSync(join(tmpdir(), 'provmon-es-run-'));
    const outputDir = mkdtempSync(join(tmpdir(), 'provmon-es-out-'));
    const sensor = await startSensor({
      eventsDir,
      args: [
        '--es', node.url, '--output-dir', outputDir,
        '--set', 'ebpf_config.file_logging_enabled=true',
        '--set', 'es_config.batch_max_latency_ms=200',
        '--set', `es_config.namespace=${ns}`,
      ],
    });
    marker = join(eventsDir, `marker-${process.pid}.txt`);
    const work = Bun.spawnSync(['sh', '-c', `echo provmon > ${marker}; cat ${marker} > /dev/null; rm ${marker}`]);
    expect(work.exitCode).toBe(0);
    await Bun.sleep(500);
    await sensor.stop();
    copies = readFileSync(join(eventsDir, 'forensic-events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EcsEvent);
    await client.indices.refresh({ index: `logs-provmon.*-${ns}` });
  });

  test('every document of the JSONL copy is in Elasticsearch exactly once', async () => {
    expect(copies.length).toBeGreaterThan(50);
    const count = await client.count({ index: `logs-provmon.process-${ns},logs-provmon.file-${ns},logs-provmon.network-${ns}` });
    expect(count.count).toBe(copies.length);
    const ids = new Set(copies.map((d) => d.event.id));
    expect(ids.size).toBe(copies.length);
    const sample = copies.slice(0, 200).map((d) => d.event.id);
    const found = await client.search({ index: `logs-provmon.*-${ns}`, size: 200, query: { ids: { values: sample } }, _source: false });
    expect(found.hits.hits.map((h) => h._id).sort()).toEqual([...sample].sort());
  });

  test('captured events are searchable by their ECS fields in their data streams', async () => {
    const deletion = await client.search<EcsEvent>({
      index: `logs-provmon.file-${ns}`,
      query: { bool: { filter: [{ term: { 'event.action': 'deletion' } }, { term: { 'file.path': marker } }] } },
    });
    expect(deletion.hits.hits).toHaveLength(1);
    const doc = deletion.hits.hits[0]!._source!;
    expect(doc.process?.name).toBe('rm');
    const exec = await client.search<EcsEvent>({
      index: `logs-provmon.process-${ns}`,
      query: { bool: { filter: [{ term: { 'event.action': 'exec' } }, { term: { 'process.entity_id': doc.process!.entity_id } }] } },
    });
    expect(exec.hits.hits[0]?._source?.process?.executable).toMatch(/\/rm$/);
    const resolved = await client.indices.resolveIndex({ name: 'logs-provmon.*' });
    expect(resolved.data_streams.map((d) => d.name)).toEqual(expect.arrayContaining([`logs-provmon.process-${ns}`, `logs-provmon.file-${ns}`]));
  });
});
