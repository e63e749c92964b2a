import { describe, expect, test } from 'bun:test';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { makeEvent } from '../../../../test/support/events.ts';
import { LocalStoreSource } from '../../graph/local-source.ts';
import { LocalStore } from './local-store.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const proc = (entity: string, parent?: string) => ({ pid: 100, entity_id: entity, ...(parent ? { parent: { pid: 1, entity_id: parent } } : {}) });

function sampleEvents() {
  return [
    makeEvent('process', 'exec', T0, { process: { ...proc('P1', 'P0'), executable: '/usr/bin/curl' } }),
    makeEvent('file', 'write', T0 + 10, { process: proc('P1'), file: { path: '/tmp/payload.sh', name: 'payload.sh' } }),
    makeEvent('process', 'exec', T0 + 20, { process: { ...proc('P2', 'P0'), executable: '/tmp/payload.sh' } }),
    makeEvent('file', 'read', T0 + 30, { process: proc('P2'), file: { path: '/etc/shadow', name: 'shadow' } }),
    makeEvent('network', 'connection_attempted', T0 + 40, { process: proc('P2'), destination: { ip: '127.0.0.1', port: 4444 } }),
    makeEvent('flow', 'network_flow', T0 + 50, { source: { ip: '127.0.0.1', port: 50000 }, destination: { ip: '127.0.0.1', port: 4444 } }),
    makeEvent('dns', 'lookup_result', T0 + 60, { dns: { type: 'answer', question: { name: 'evil.test' }, resolved_ip: ['127.0.0.1'] } }),
  ];
}

const newDir = () => mkdtempSync(join(tmpdir(), 'provmon-store-'));
const iso = (ms: number) => new Date(ms).toISOString();
const fileEvents = (n: number, from = 0): EcsEvent[] =>
  Array.from({ length: n }, (_, i) => makeEvent('file', 'open', T0 + from + i, { process: proc(`E${from + i}`), file: { path: `/data/f${from + i}` } }));

/** Every line of every forensic-events file, parsed: what the store holds, independent of the index. */
function jsonlEventIds(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('forensic-events') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => (JSON.parse(l) as EcsEvent).event.id);
}

describe('local store', () => {
  test('writes the seed file names, one JSON document per line', () => {
    const dir = newDir();
    const store = new LocalStore({ dir });
    for (const e of sampleEvents()) store.write(e);
    store.close();
    const lines = readFileSync(join(dir, 'forensic-events.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!).process.executable).toBe('/usr/bin/curl');
    expect(readFileSync(join(dir, 'pcap-flows.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dir, 'dns.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(store.stats.written).toEqual({ process: 2, file: 2, network: 1, flow: 1, dns: 1, health: 0, audit: 0 });
    expect(store.stats.indexed).toBe(7);
  });

  test('flush() makes every written event findable through the index the worker builds', async () => {
    const dir = newDir();
    const store = new LocalStore({ dir });
    for (const e of sampleEvents().reverse()) store.write(e);
    store.flush();
    const source = LocalStoreSource.open(dir);
    const actions = async (q: Parameters<LocalStoreSource['fetch']>[0]) => (await source.fetch(q)).map((e) => e.event.action);
    expect(await actions({ entityIds: ['P2'] })).toEqual(['exec', 'read', 'connection_attempted']);
    expect((await source.fetch({ entityIds: ['P0'] })).map((e) => e.process?.entity_id)).toEqual(['P1', 'P2']);
    expect(await actions({ paths: ['/tmp/payload.sh'] })).toEqual(['write', 'exec']);
    expect((await source.fetch({ endpoints: [{ ip: '127.0.0.1', port: 4444 }], datasets: ['network', 'flow'] })).map((e) => e.event.dataset)).toEqual(['provmon.network', 'provmon.flow']);
    expect(await actions({ from: iso(T0 + 15), to: iso(T0 + 35) })).toEqual(['exec', 'read']);
    expect(await source.fetch({ datasets: ['dns'] })).toHaveLength(1);
    source.close();
    store.close();
  });

  test('rotates by size and counts the events of files deleted by the max-files bound', () => {
    const dir = newDir();
    const store = new LocalStore({ dir, rotateBytes: 2000, maxFiles: 2 });
    const written = 200;
    for (const e of fileEvents(written)) store.write(e);
    store.flush();
    expect(store.stats.rotations).toBeGreaterThan(2);
    expect(existsSync(join(dir, 'forensic-events.jsonl'))).toBe(true);
    const source = LocalStoreSource.open(dir);
    const remaining = source.info().events;
    expect(store.stats.evicted).toBeGreaterThan(0);
    expect(remaining + store.stats.evicted).toBe(written);
    expect(remaining).toBe(jsonlEventIds(dir).length);
    source.close();
    store.close();
  });

  test('after a crash, lines in the file that never reached the index are indexed on restart', async () => {
    const dir = newDir();
    const first = new LocalStore({ dir });
    for (const e of sampleEvents()) first.write(e);
    first.close();
    // As if the sensor died after write(2) but before the index transaction committed.
    const lost = makeEvent('file', 'deletion', T0 + 99, { process: proc('P9'), file: { path: '/tmp/gone' } });
    appendFileSync(join(dir, 'forensic-events.jsonl'), `${JSON.stringify(lost)}\n{"torn":`);
    const second = new LocalStore({ dir });
    expect(second.stats.reindexed).toBe(1);
    expect(second.stats.torn_tails).toBe(1);
    second.flush();
    const source = LocalStoreSource.open(dir);
    expect((await source.fetch({ entityIds: ['P9'] })).map((e) => e.file?.path)).toEqual(['/tmp/gone']);
    expect(await source.fetch({ entityIds: ['P2'] })).toHaveLength(3);
    source.close();
    second.close();
    // the torn fragment was cut, so the file is whole lines only
    expect(readFileSync(join(dir, 'forensic-events.1.jsonl'), 'utf8').endsWith('}\n')).toBe(true);
  });

  test('a full index queue defers rows to ranges the worker reads from the files: every event indexed once', () => {
    const dir = newDir();
    const store = new LocalStore({ dir, commitEvery: 50, maxQueuedRows: 100, rotateBytes: 64 * 1024, maxFiles: 1000 });
    const events = fileEvents(20_000);
    for (const e of events) store.write(e);
    store.flush();
    const s = store.stats;
    expect(s.index_deferred).toBeGreaterThan(0);
    expect(s.indexed).toBe(events.length);
    expect(s.index_queue).toBe(0);
    const source = LocalStoreSource.open(dir);
    expect(source.info().events).toBe(events.length);
    const found = source.fetchSync({ eventIds: events.filter((_, i) => i % 997 === 0).map((e) => e.event.id) });
    expect(found.length).toBe(Math.ceil(events.length / 997));
    source.close();
    store.close();
  });
});
