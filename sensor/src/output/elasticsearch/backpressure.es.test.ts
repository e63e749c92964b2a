/**
 * Backpressure: a node of our own with a one-thread write pool, a three-slot write queue and a tiny indexing
 * pressure limit rejects with real 429s, per item (es_rejected_execution_exception from the write pool) and per
 * request (indexing pressure); the output backs off, spools when it must, and nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { testClient } from '../../../../test/support/es.ts';
import { startNode, type EsNode } from '../../../../scripts/es-node/node.ts';
import { runSetup } from '../../setup/setup.ts';
import { createElasticsearchOutput } from './output.ts';
import { realisticDocs } from './testdata/ecs-docs.ts';
import { allIds, removeTempDirs, esConfig, tempDirs } from './testdata/es-helpers.ts';

setDefaultTimeout(300_000);

const RUN = `bp${process.pid}x${Date.now().toString(36)}`;
let node: EsNode | undefined;

beforeAll(async () => {
  node = await startNode({
    name: `backpressure-${process.pid}`,
    ownerPid: process.pid,
    settings: {
      'thread_pool.write.size': 1,
      'thread_pool.write.queue_size': 3,
      'indexing_pressure.memory.limit': '300kb',
    },
  });
});

afterAll(async () => {
  removeTempDirs();
  await node?.stop();
});

describe('Elasticsearch backpressure', () => {
  test('real 429s from a tiny write queue and indexing-pressure limit: retried, spooled if need be, nothing lost', async () => {
    await runSetup(esConfig(node!).es_config, { coreOnly: true, print: () => undefined });
    const config = esConfig(node!, { batch_size: 150, concurrency: 4, retry_initial_ms: 20, retry_max_ms: 500, retry_max_attempts: 4, batch_max_latency_ms: 50 });
    const out = createElasticsearchOutput(config, tempDirs('es-bp'));
    const docs = realisticDocs(8000, { run: RUN });
    for (const d of docs) out.write(d);
    expect(await out.sink.drain(240_000)).toBe(true);
    const s = out.stats();
    await out.close();
    if (process.env.PROVMON_TEST_VERBOSE) console.log(s);
    // Elasticsearch pushed back, both ways
    expect(s.throttled_docs).toBeGreaterThan(0);
    expect(s.throttled_requests).toBeGreaterThan(0);
    expect(s.retries).toBeGreaterThan(0);
    // and nothing was lost or refused
    expect(s.dropped).toBe(0);
    expect(s.rejected).toBe(0);
    const client = testClient(node!);
    try {
      const ids = await allIds(client, 'logs-provmon.*-default');
      expect(ids.length).toBe(docs.length);
      expect(ids.sort()).toEqual(docs.map((d) => d.event.id).sort());
    } finally {
      await client.close();
    }
  });
});
