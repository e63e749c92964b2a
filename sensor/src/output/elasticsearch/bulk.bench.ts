/**
 * Documents/s through the Elasticsearch output (serialize, batch, _bulk with create + _id, per-item checks)
 * against a raw _bulk of the same NDJSON (already serialized, same batch size and concurrency) to the same node,
 * in the same run, and against the same raw _bulk with serialization counted (what any client pays). The node is
 * started for the bench (integ-test-zip, templates from `provmon setup --core-only`)
 * and stopped afterwards. Target: the output at ≥ 90 % of raw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from '../../../../bench/harness.ts';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { startNode, type EsNode } from '../../../../scripts/es-node/node.ts';
import type { Config } from '../../config/schema.ts';
import { runSetup } from '../../setup/setup.ts';
import { createElasticsearchOutput } from './output.ts';
import { realisticDocs } from './testdata/ecs-docs.ts';
import { esConfig } from './testdata/es-helpers.ts';

const N = 20_000;
const BATCH = 1000;
const CONCURRENCY = 2;

let node: EsNode | undefined;
let config: Config;
let round = 0;
const dirs: string[] = [];

const freshDocs = (): EcsEvent[] => realisticDocs(N, { run: `bench${process.pid}r${round++}` });

/**
 * Each sample starts on a settled node: refresh, then a pause for the merges the previous sample triggered, so
 * the case measured second in a round does not pay for the first one's background work.
 */
async function settle(): Promise<void> {
  await fetch(`${node!.url}/logs-provmon.*/_refresh`, { method: 'POST' });
  await new Promise((r) => setTimeout(r, 1500));
}

/** The bodies the raw case posts: exactly the lines the output would send, in batches of BATCH. */
function ndjsonBatches(docs: EcsEvent[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < docs.length; i += BATCH) {
    let body = '';
    for (const d of docs.slice(i, i + BATCH)) {
      body += `{"create":{"_index":"logs-${d.data_stream.dataset}-${d.data_stream.namespace}","_id":${JSON.stringify(d.event.id)}}}\n${JSON.stringify(d)}\n`;
    }
    out.push(body);
  }
  return out;
}

async function rawBulk(url: string, bodies: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
      const json = (await res.json()) as { errors?: boolean };
      if (res.status !== 200 || json.errors) throw new Error(`raw _bulk failed: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

export const esBulkOutput: Benchmark = {
  name: 'Elasticsearch output',
  unit: 'docs/s',
  better: 'higher',
  rounds: 7,
  note: `${N} realistic ECS documents per sample, batches of ${BATCH}, ${CONCURRENCY} requests in flight, one local integ-test-zip node; the output's figure includes JSON serialization, the raw one does not`,
  setup: async () => {
    node = await startNode({ name: `bench-es-${process.pid}`, heap: '1g', ownerPid: process.pid });
    config = esConfig(node, { batch_size: BATCH, concurrency: CONCURRENCY, batch_max_bytes: 50_000_000 }, { pcap_config: { file_logging_enabled: false } });
    await runSetup(config.es_config, { coreOnly: true, print: () => undefined });
    // a fresh JVM indexes several times slower for its first ~100k documents: warm it up before measuring
    for (let i = 0; i < 4; i++) await rawBulk(node.url, ndjsonBatches(freshDocs()));
  },
  teardown: async () => {
    await node?.stop();
    node = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
  baseline: {
    label: 'raw _bulk of the same NDJSON (fetch)',
    measure: async () => {
      const bodies = ndjsonBatches(freshDocs());
      await settle();
      const t0 = Bun.nanoseconds();
      await rawBulk(node!.url, bodies);
      return N / ((Bun.nanoseconds() - t0) / 1e9);
    },
  },
  cases: [
    {
      label: 'JSON.stringify + raw _bulk (fetch): the floor for any client',
      measure: async () => {
        const docs = freshDocs();
        await settle();
        const t0 = Bun.nanoseconds();
        await rawBulk(node!.url, ndjsonBatches(docs));
        return N / ((Bun.nanoseconds() - t0) / 1e9);
      },
    },
    {
      label: 'provmon Elasticsearch output (write → delivered)',
      measure: async () => {
        const docs = freshDocs();
        const root = mkdtempSync(join(tmpdir(), 'provmon-bench-es-'));
        dirs.push(root);
        const out = createElasticsearchOutput(config, { eventsDir: join(root, 'events'), outputDir: join(root, 'outputs') });
        await settle();
        const t0 = Bun.nanoseconds();
        // as the capture loop does: a ring-buffer poll's worth of events, then back to the event loop
        for (let i = 0; i < docs.length; i += 1000) {
          for (const d of docs.slice(i, i + 1000)) out.write(d);
          await new Promise((r) => setImmediate(r));
        }
        await out.flush();
        const elapsed = (Bun.nanoseconds() - t0) / 1e9;
        const s = out.stats();
        await out.close();
        if (s.indexed !== N) throw new Error(`the output indexed ${s.indexed} of ${N} documents`);
        return N / elapsed;
      },
    },
  ],
};
