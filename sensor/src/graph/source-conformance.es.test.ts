/**
 * The source conformance suite, three ways: MemorySource (the reference), LocalStoreSource and ElasticsearchSource
 * (the real test node, provmon's own index templates installed by `provmon setup --core-only`) answer the same
 * queries with the same documents in the same order, whole and page by page; traces over them are equal.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { traceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { MemorySource } from '../../../kibana-plugin/common/graph/source.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { buildQuery, ElasticsearchSource } from './es-source.ts';
import { LocalStoreSource } from './local-source.ts';
import { cornerEvents, cornerQueries, ids, paged, workloadEvents, workloadQueries } from './testdata/conformance.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `gconf${process.pid}${Date.now().toString(36)}`;
const NS_TRACE = `gtrace${process.pid}${Date.now().toString(36)}`;

let node: EsNode;
let client: Client;

function withNamespace(events: readonly EcsEvent[], ns: string): EcsEvent[] {
  return events.map((e) => ({ ...e, data_stream: { ...e.data_stream, namespace: ns } }));
}

async function index(events: readonly EcsEvent[]): Promise<void> {
  const body: unknown[] = [];
  for (const e of events) body.push({ create: { _index: `logs-${e.data_stream.dataset}-${e.data_stream.namespace}`, _id: e.event.id } }, e);
  for (let i = 0; i < body.length; i += 4000) {
    const r = await client.bulk({ operations: body.slice(i, i + 4000), refresh: false });
    if (r.errors) throw new Error(JSON.stringify(r.items.find((it) => Object.values(it)[0]?.error)));
  }
  await client.indices.refresh({ index: 'logs-provmon.*-*' });
}

function localStore(events: readonly EcsEvent[]): LocalStoreSource {
  const dir = tempDir('provmon-graph-conf-');
  const store = new LocalStore({ dir });
  for (const e of events) store.write(e);
  store.close();
  return LocalStoreSource.open(dir);
}

const corner = withNamespace(cornerEvents(), NS);
const workload = withNamespace(workloadEvents(), NS);
let memory: MemorySource;
let local: LocalStoreSource;
let es: ElasticsearchSource;

beforeAll(async () => {
  node = await testNode('open');
  client = testClient(node);
  // provmon's own templates (core profile: mappings without pipelines, which this node cannot run).
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--es', node.url, '--core-only'], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
  await index([...corner, ...workload]);
  memory = new MemorySource([...corner, ...workload]);
  local = localStore([...corner, ...workload]);
  es = new ElasticsearchSource(client, { index: `logs-provmon.*-${NS}`, pageSize: 50 });
});

afterAll(async () => {
  removeTempDirs();
  await es?.close();
  local?.close();
  await client?.close();
});

describe('the same answers from memory, the local store and Elasticsearch', () => {
  test('@timestamp is mapped date (milliseconds) while documents carry microseconds: the case the source must handle', async () => {
    const m = await client.indices.getMapping({ index: `logs-provmon.file-${NS}` });
    const props = Object.values(m)[0]!.mappings.properties!;
    expect(props['@timestamp']).toMatchObject({ type: 'date' });
  });

  for (const { name, q } of cornerQueries()) {
    test(`corner case: ${name}`, async () => {
      const want = await memory.fetch(q);
      expect(ids(await local.fetch(q))).toEqual(ids(want));
      const got = await es.fetch(q);
      expect(ids(got)).toEqual(ids(want));
      expect(got).toEqual(want);
      for (const limit of [1, 2, 5]) {
        const pages = ids(await paged(memory, q, limit));
        expect(ids(await paged(local, q, limit))).toEqual(pages);
        expect(ids(await paged(es, q, limit))).toEqual(pages);
      }
    });
  }

  test('workload: every process, file side and endpoint, whole and paged (ES pages of 50 under the hood)', async () => {
    let total = 0;
    for (const { name, q } of workloadQueries(workload)) {
      const want = ids(await memory.fetch(q));
      total += want.length;
      expect({ name, got: ids(await local.fetch(q)) }).toEqual({ name, got: want });
      expect({ name, got: ids(await es.fetch(q)) }).toEqual({ name, got: want });
      expect({ name, got: ids(await paged(es, q, 97)) }).toEqual({ name, got: want });
    }
    expect(total).toBeGreaterThan(1000);
    // One point in time served every request.
    expect(es.counters.pitsOpened).toBe(1);
    expect(es.counters.requests).toBeGreaterThan(es.counters.queries);
  });

  test('a query that names no valid selector matches nothing (not everything)', () => {
    const q = buildQuery({ endpoints: [{ ip: 'not-an-ip' }] });
    expect(JSON.stringify(q)).toContain('must_not');
  });

  test('an expired point in time is reopened and the query answered', async () => {
    const source = new ElasticsearchSource(client, { index: `logs-provmon.*-${NS}` });
    const q = { paths: ['/tmp/x.sh'] };
    expect(ids(await source.fetch(q))).toEqual(ids(await memory.fetch(q)));
    await client.closePointInTime({ id: source.pointInTime! });
    expect(ids(await source.fetch(q))).toEqual(ids(await memory.fetch(q)));
    expect(source.counters.pitsOpened).toBe(2);
    await source.close();
  });

  test('traces over Elasticsearch equal traces over memory', async () => {
    const w = syntheticWorkload({ seed: 5, packages: 8, filesPerPackage: 8, requests: 8 });
    const events = withNamespace(w.events, NS_TRACE);
    await index(events);
    const source = new ElasticsearchSource(client, { index: `logs-provmon.*-${NS_TRACE}` });
    try {
      for (const [poi, direction] of [
        [`ip:${w.attack!.exfilEndpoint.ip}:${w.attack!.exfilEndpoint.port}`, 'backward'],
        [`file:${w.attack!.dropped}`, 'forward'],
      ] as const) {
        const a = await traceGraph(new MemorySource(events), { poi, direction });
        const b = await traceGraph(source, { poi, direction });
        expect(b).toEqual(a);
        expect(a.nodes.some((n) => n.flags?.some((f) => f.severity === 'high'))).toBe(true);
      }
      const info = await source.info();
      expect(info.events).toBe(events.length);
    } finally {
      await source.close();
    }
  });
});
