import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../kibana-plugin/common/ecs.ts';
import { JsonlWriter } from '../sensor/src/output/local/jsonl-writer.ts';
import { LocalStore } from '../sensor/src/output/local/local-store.ts';
import { makeEvent } from '../test/support/events.ts';
import type { Benchmark } from './harness.ts';

const N = 100_000;
const T0 = Date.parse('2026-11-24T10:00:00Z');

function workload(): EcsEvent[] {
  const docs: EcsEvent[] = [];
  for (let i = 0; i < N; i++) {
    const process = { pid: 1000 + (i % 500), entity_id: `E${i % 500}`, name: 'worker', executable: '/usr/bin/worker', parent: { pid: 1, entity_id: 'E-init' } };
    docs.push(
      i % 3 === 0
        ? makeEvent('network', 'send', T0 + i, { process, destination: { ip: '10.0.0.1', port: 443 }, provmon: { io: { count: 3, bytes: 900 } } })
        : makeEvent('file', 'read', T0 + i, { process, file: { path: `/srv/data/${i % 2000}.bin` }, provmon: { io: { count: 8, bytes: 32768 } } }),
    );
  }
  return docs;
}

let docs: EcsEvent[] = [];

function timed(fn: (dir: string) => void): number {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-bench-store-'));
  try {
    const start = Bun.nanoseconds();
    fn(dir);
    return N / ((Bun.nanoseconds() - start) / 1e9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The local store's write path against plain JSONL appends of the same documents: "written" is the capture thread's
 * cost (lines on disk, index rows handed to the index worker), "written and indexed" lasts until the worker has
 * committed every row (flush() returns), which is what the store sustains when the index must keep up.
 */
export const localStoreWrite: Benchmark = {
  name: 'local store write',
  unit: 'events/s',
  better: 'higher',
  rounds: 5,
  note: 'index built by a worker thread (index-worker.ts); the 2-core machine shares its cores between the capture thread, the worker and any neighbour',
  setup: () => {
    docs = workload();
  },
  teardown: () => {
    docs = [];
  },
  baseline: {
    label: 'JSON.stringify + JSONL append only',
    measure: () =>
      timed((dir) => {
        const w = new JsonlWriter({ dir, base: 'plain', rotateBytes: 1 << 30, maxFiles: 2 });
        for (const d of docs) w.append(JSON.stringify(d));
        w.close();
      }),
  },
  cases: [
    { label: 'LocalStore written (capture thread: JSONL + rows to the worker)', measure: () => storeRate('written') },
    { label: 'LocalStore written and indexed (until the worker committed all)', measure: () => storeRate('indexed') },
  ],
};

function storeRate(until: 'written' | 'indexed'): number {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-bench-store-'));
  const store = new LocalStore({ dir });
  try {
    const start = Bun.nanoseconds();
    for (const d of docs) store.write(d);
    if (until === 'written') store.flushFiles();
    else store.flush();
    return N / ((Bun.nanoseconds() - start) / 1e9);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
