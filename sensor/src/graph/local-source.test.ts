/**
 * LocalStoreSource: the conformance suite against MemorySource (identical answers, pages included), and what
 * being a read-only reader beside the sensor means (rotation under it, an index of another version).
 * The three-way suite with Elasticsearch is source-conformance.es.test.ts.
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { traceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { MemorySource } from '../../../kibana-plugin/common/graph/source.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { LocalStoreSource } from './local-source.ts';
import { cornerEvents, cornerQueries, ids, paged, workloadEvents, workloadQueries } from './testdata/conformance.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

function storeOf(events: readonly EcsEvent[], opts: { rotateBytes?: number; maxFiles?: number } = {}): string {
  const dir = tempDir('provmon-graph-local-');
  const store = new LocalStore({ dir, ...opts });
  // Written out of time order, as a sensor does (aggregated I/O is emitted at close).
  for (const e of [...events].reverse()) store.write(e);
  store.close();
  return dir;
}

describe('LocalStoreSource answers exactly like MemorySource', () => {
  const corner = cornerEvents();
  const cornerDir = storeOf(corner);
  const workload = workloadEvents();
  // Small files: the workload spans several rotated JSONL files.
  const workloadDir = storeOf(workload, { rotateBytes: 128 * 1024 });

  for (const { name, q } of cornerQueries()) {
    test(`corner case: ${name}`, async () => {
      const memory = new MemorySource(corner);
      const local = LocalStoreSource.open(cornerDir);
      try {
        const want = await memory.fetch(q);
        const got = await local.fetch(q);
        expect(ids(got)).toEqual(ids(want));
        expect(got).toEqual(want);
        for (const limit of [1, 2, 5]) expect(ids(await paged(local, q, limit))).toEqual(ids(await paged(memory, q, limit)));
      } finally {
        local.close();
      }
    });
  }

  test('the corner cases are not vacuous', async () => {
    const memory = new MemorySource(corner);
    const counts = await Promise.all(cornerQueries().map(async ({ q }) => (await memory.fetch(q)).length));
    expect(counts.filter((n) => n > 0).length).toBeGreaterThan(cornerQueries().length - 4);
    // The exact order inside a millisecond differs from (sequence, id): b01 (.123100, seq 10) before a05 (.123900, seq 5).
    expect(ids(await memory.fetch({ paths: ['/tmp/x.sh'], from: '2025-05-01T10:00:02.123Z', to: '2025-05-01T10:00:02.124Z' }))).toEqual(['b01', 'a05']);
  });

  test('workload: every process, file side and endpoint, whole and paged', async () => {
    expect(readdirSync(workloadDir).filter((f) => /^forensic-events\.\d+\.jsonl$/.test(f)).length).toBeGreaterThan(2);
    const memory = new MemorySource(workload);
    const local = LocalStoreSource.open(workloadDir);
    try {
      const queries = workloadQueries(workload);
      expect(queries.length).toBeGreaterThan(20);
      let total = 0;
      for (const { name, q } of queries) {
        const want = ids(await memory.fetch(q));
        total += want.length;
        expect({ name, got: ids(await local.fetch(q)) }).toEqual({ name, got: want });
        expect({ name, got: ids(await paged(local, q, 97)) }).toEqual({ name, got: want });
      }
      expect(total).toBeGreaterThan(1000);
    } finally {
      local.close();
    }
  });

  test('a trace over the local store equals the trace over memory (both directions, reduced and not)', async () => {
    const w = syntheticWorkload({ seed: 3, packages: 10, filesPerPackage: 10, requests: 10 });
    const dir = storeOf(w.events);
    const local = LocalStoreSource.open(dir);
    try {
      for (const [poi, direction] of [
        [`ip:${w.attack!.exfilEndpoint.ip}:${w.attack!.exfilEndpoint.port}`, 'backward'],
        [`file:${w.attack!.dropped}`, 'forward'],
        [`process:${w.attack!.payload.entityId}`, 'both'],
      ] as const) {
        for (const reduce of [true, false]) {
          const a = await traceGraph(new MemorySource(w.events), { poi, direction, reduce });
          const b = await traceGraph(local, { poi, direction, reduce });
          expect(b).toEqual(a);
          expect(a.edges.length).toBeGreaterThan(3);
        }
      }
      // Incremental: the traces read a fraction of the store.
      expect(local.counters.queries).toBeGreaterThan(6);
    } finally {
      local.close();
    }
  });
});

describe('LocalStoreSource as a reader beside the sensor', () => {
  test('reads while the store is being written and rotated, without touching the files', async () => {
    const dir = tempDir('provmon-graph-live-');
    const events = workloadEvents();
    const writer = new LocalStore({ dir, rotateBytes: 128 * 1024, maxFiles: 100 });
    const half = Math.floor(events.length / 2);
    for (const e of events.slice(0, half)) writer.write(e);
    writer.flush();
    const before = readdirSync(dir).sort();
    const reader = LocalStoreSource.open(dir);
    expect(readdirSync(dir).sort()).toEqual(before); // no rotation, no new file
    const q = { entityIds: [...new Set(events.map((e) => e.process?.entity_id ?? ''))].filter(Boolean) };
    const first = await reader.fetch(q);
    expect(ids(first)).toEqual(ids(await new MemorySource(events.slice(0, half)).fetch(q)));
    // The writer goes on (rotating the live file the reader knew), then the reader asks again.
    for (const e of events.slice(half)) writer.write(e);
    writer.flush();
    expect(ids(await reader.fetch(q))).toEqual(ids(await new MemorySource(events).fetch(q)));
    expect(reader.counters.stale).toBe(0);
    writer.close();
    reader.close();
  });

  test('an index of an older version is rebuilt from the JSONL files (once), then read', async () => {
    const events = cornerEvents();
    const dir = storeOf(events);
    const db = new Database(join(dir, 'events-index.sqlite'));
    db.exec('PRAGMA user_version = 1');
    db.close();
    const notices: string[] = [];
    const source = LocalStoreSource.open(dir, { onNotice: (m) => notices.push(m) });
    expect(notices.join('\n')).toContain('its index has format version 1');
    expect(ids(await source.fetch({ paths: ['/tmp/x.sh'] }))).toEqual(ids(await new MemorySource(events).fetch({ paths: ['/tmp/x.sh'] })));
    source.close();
    const again: string[] = [];
    LocalStoreSource.open(dir, { onNotice: (m) => again.push(m) }).close();
    expect(again).toEqual([]);
  });

  test('JSONL files without an index (e.g. copied from another host) are indexed', async () => {
    const events = cornerEvents();
    const dir = storeOf(events);
    rmSync(join(dir, 'events-index.sqlite'));
    for (const f of readdirSync(dir)) if (f.startsWith('events-index.sqlite-')) rmSync(join(dir, f));
    const notices: string[] = [];
    const source = LocalStoreSource.open(dir, { onNotice: (m) => notices.push(m) });
    expect(notices.join('\n')).toContain('it has no index');
    expect(source.info().events).toBe(events.filter((e) => e.event.dataset !== 'provmon.flow').length + 1);
    expect(ids(await source.fetch({ entityIds: ['P1'] }))).toEqual(ids(await new MemorySource(events).fetch({ entityIds: ['P1'] })));
    source.close();
  });

  test('a damaged index is set aside and rebuilt from the JSONL files, with a notice', async () => {
    const events = cornerEvents();
    const dir = storeOf(events);
    for (const f of readdirSync(dir)) if (f.startsWith('events-index.sqlite')) rmSync(join(dir, f));
    writeFileSync(join(dir, 'events-index.sqlite'), 'this is not a database, it is a damaged file '.repeat(200));
    const notices: string[] = [];
    const source = LocalStoreSource.open(dir, { onNotice: (m) => notices.push(m) });
    expect(notices.join('\n')).toMatch(/its index is damaged: .*not a database.*set aside and rebuilt/);
    expect(readdirSync(dir).filter((f) => /^events-index\.sqlite\.bad-/.test(f))).toHaveLength(1);
    expect(ids(await source.fetch({ entityIds: ['P1'] }))).toEqual(ids(await new MemorySource(events).fetch({ entityIds: ['P1'] })));
    source.close();
  });

  test('a directory without a store is a clear error', () => {
    const empty = tempDir('provmon-graph-empty-');
    expect(() => LocalStoreSource.open(empty)).toThrow(/no local store at .*: no forensic-events\.jsonl or index there/);
    expect(() => LocalStoreSource.open(join(empty, 'missing'))).toThrow(/the directory does not exist/);
  });
});
