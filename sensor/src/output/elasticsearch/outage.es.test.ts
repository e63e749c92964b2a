/**
 * Outage: a node of our own is stopped in the middle of a steady stream of events, the stream goes on, the node is
 * started again on the same port with the same data directory, and every document arrives exactly once: the ids
 * in Elasticsearch equal the ids written, and equal the JSONL copies.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { testClient, type EsNode } from '../../../../test/support/es.ts';
import { runSetup } from '../../setup/setup.ts';
import { createElasticsearchOutput } from './output.ts';
import { realisticDoc } from './testdata/ecs-docs.ts';
import { allIds, removeTempDirs, captureLog, esConfig, jsonlIds, restartableNode, tempDirs } from './testdata/es-helpers.ts';

setDefaultTimeout(300_000);

const RUN = `outage${process.pid}x${Date.now().toString(36)}`;
let es: Awaited<ReturnType<typeof restartableNode>> | undefined;

beforeAll(async () => {
  es = await restartableNode(`outage-${process.pid}`);
});

afterAll(async () => {
  removeTempDirs();
  await es?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until cond() holds (a loaded 2-core machine makes fixed sleeps flaky); false after timeoutMs. */
async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

describe('Elasticsearch outage', () => {
  test('stop the node mid-stream, keep writing, start it again: every document arrives exactly once', async () => {
    const node: EsNode = es!.node;
    const setupLines: string[] = [];
    await runSetup(esConfig(node).es_config, { coreOnly: true, print: (l) => setupLines.push(l) });
    expect(setupLines.at(-1)).toBe('done: 22 installed, 0 upgraded, 0 unchanged, 17 skipped'); // a fresh node

    const dirs = tempDirs('es-outage');
    const config = esConfig(
      node,
      { batch_size: 250, batch_max_latency_ms: 200, retry_max_attempts: 2, retry_initial_ms: 100, retry_max_ms: 1000, request_timeout: 5 },
      { ebpf_config: { file_logging_enabled: true }, pcap_config: { file_logging_enabled: true } },
    );
    const log = captureLog();
    const out = createElasticsearchOutput(config, dirs, log);

    // the capture side: 25 events every 50 ms (500/s), never waiting for Elasticsearch
    let written = 0;
    let slowestWriteMs = 0;
    const writer = setInterval(() => {
      const t0 = performance.now();
      for (let i = 0; i < 25; i++) out.write(realisticDoc(written++, { run: RUN }));
      slowestWriteMs = Math.max(slowestWriteMs, performance.now() - t0);
    }, 50);

    try {
      // streaming and delivering
      expect(await waitFor(() => out.stats().indexed! >= 1000, 60_000)).toBe(true);
      await node.stop({ keepDir: false });
      // the outage is noticed, and the stream goes on into the spool
      expect(await waitFor(() => out.stats().outage === 1 && out.stats().spool_docs! > 1000, 60_000)).toBe(true);
      expect(log.lines.join('\n')).toContain('spooling documents to disk');
      await es!.restart();
      expect(es!.node.port).toBe(node.port);
      await sleep(2000);
    } finally {
      clearInterval(writer);
    }

    expect(await out.sink.drain(180_000)).toBe(true);
    const s = out.stats();
    await out.close();
    expect(s.written).toBe(written);
    expect(s.outages).toBeGreaterThanOrEqual(1);
    expect(s.spooled).toBeGreaterThan(0);
    expect(s.replayed).toBeGreaterThan(0);
    expect(s.dropped).toBe(0);
    expect(s.rejected).toBe(0);
    expect(s.indexed! + s.duplicates!).toBeGreaterThanOrEqual(written);
    if (process.env.PROVMON_TEST_VERBOSE) console.log({ written, slowestWriteMs, ...s });
    expect(slowestWriteMs).toBeLessThan(1000);

    const client = testClient(es!.node);
    try {
      const ids = await allIds(client, 'logs-provmon.*-default');
      const expected = Array.from({ length: written }, (_, i) => `${RUN}-${i}`).sort();
      expect(ids.length).toBe(written);
      expect(new Set(ids).size).toBe(written);
      expect(ids.sort()).toEqual(expected);
      expect(jsonlIds(dirs.eventsDir).sort()).toEqual(expected);
    } finally {
      await client.close();
    }
  });
});
