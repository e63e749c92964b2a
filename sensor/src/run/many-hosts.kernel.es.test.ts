/**
 * Two sensors, one Elasticsearch node (needs root for eBPF, and the test node): one captures live under its own
 * hostname, the other replays a capture file as another host (hostname and host_id from config). Both hosts are in
 * the data streams, each with its own host.id, and the live one reports its health in logs-provmon.health-<ns>.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { startSensor } from '../../../test/support/sensor.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const PROVMON = resolve(ROOT, 'bin/provmon');
const isRoot = process.getuid?.() === 0;
const LIVE = 'live-host-a';
const REPLAY = { name: 'replay-host-b', id: 'replay-host-b-0001' };

describe.skipIf(!isRoot)('many hosts into one Elasticsearch node (root, kernel BPF, real node)', () => {
  let node: EsNode;
  let client: Client;
  const ns = `hosts${process.pid}`;

  beforeAll(async () => {
    node = await testNode('open');
    client = testClient(node);
    const setup = Bun.spawnSync([PROVMON, 'setup', '--core-only', '--es', node.url, '--log-format', 'json']);
    if (setup.exitCode !== 0) throw new Error(`setup failed: ${setup.stderr.toString()}`);
    const common = ['--es', node.url, '--set', `es_config.namespace=${ns}`, '--set', 'es_config.batch_max_latency_ms=200'];
    const live = await startSensor({
      eventsDir: mkdtempSync(join(tmpdir(), 'provmon-hosts-a-')),
      args: [...common, '--hostname', LIVE, '--set', 'stats_interval=1', '--output-dir', mkdtempSync(join(tmpdir(), 'provmon-hosts-a-out-'))],
    });
    await Bun.sleep(2500); // at least two stats intervals
    await live.stop();
    const replayDir = mkdtempSync(join(tmpdir(), 'provmon-hosts-b-'));
    const replay = Bun.spawnSync(
      [PROVMON, 'run', '--pcap-file', join(ROOT, 'sensor/src/pcap/testdata/lo.pcapng'), '--events-dir', replayDir, '--output-dir', replayDir,
        '--hostname', REPLAY.name, '--set', `host_id=${REPLAY.id}`, '--log-format', 'json', ...common],
      { cwd: replayDir },
    );
    if (replay.exitCode !== 0) throw new Error(`replay failed: ${replay.stderr.toString()}`);
    await client.indices.refresh({ index: `logs-provmon.*-${ns}` });
  }, 180_000);

  test('both hosts are in the data streams, each under its own host.id', async () => {
    const r = await client.search({
      index: `logs-provmon.*-${ns}`,
      size: 0,
      aggs: { hosts: { terms: { field: 'host.name' }, aggs: { ids: { terms: { field: 'host.id' } } } } },
    });
    const buckets = (r.aggregations!.hosts as { buckets: { key: string; ids: { buckets: { key: string }[] } }[] }).buckets;
    const byName = Object.fromEntries(buckets.map((b) => [b.key, b.ids.buckets.map((i) => i.key)]));
    expect(Object.keys(byName).sort()).toEqual([LIVE, REPLAY.name].sort());
    expect(byName[REPLAY.name]).toEqual([REPLAY.id]);
    expect(byName[LIVE]).toHaveLength(1);
    expect(byName[LIVE]![0]).not.toBe(REPLAY.id);
  });

  test('the live sensor wrote health documents into logs-provmon.health-<ns>, in ECS shape', async () => {
    const r = await client.search<EcsEvent>({ index: `logs-provmon.health-${ns}`, size: 20, sort: [{ '@timestamp': 'asc' }] });
    const docs = r.hits.hits.map((h) => h._source!);
    expect(docs.length).toBeGreaterThanOrEqual(2);
    const last = docs.at(-1)!;
    expect(last.host.name).toBe(LIVE);
    expect(last.event).toMatchObject({ kind: 'metric', dataset: 'provmon.health', action: 'sensor_health' });
    expect(last.agent?.version).toMatch(/^\d+\.\d+\.\d+/);
    const health = last.provmon!.health!;
    expect(health.capture).toEqual({ ebpf: true, pcap: false });
    expect(health.events_total.process).toBeGreaterThan(0);
    expect(health.output.name).toBe('elasticsearch');
    expect(health.rss_bytes).toBeGreaterThan(0);
    // mapped: a dashboard can filter and aggregate on the counters
    const blind = await client.count({ index: `logs-provmon.health-${ns}`, query: { range: { 'provmon.health.ring.lost': { gte: 0 } } } });
    expect(blind.count).toBe(docs.length);
  });
});
