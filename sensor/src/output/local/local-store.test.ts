import { describe, expect, test } from 'bun:test';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvent } from '../../../../test/support/events.ts';
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
    expect(store.stats.written).toEqual({ process: 2, file: 2, network: 1, flow: 1, dns: 1 });
  });

  test('answers graph queries by entity id, path, endpoint and time range, in time order', () => {
    const store = new LocalStore({ dir: newDir() });
    for (const e of sampleEvents().reverse()) store.write(e);
    const byEntity = store.query({ entityIds: ['P2'] });
    expect(byEntity.map((e) => e.event.action)).toEqual(['exec', 'read', 'connection_attempted']);
    const byParent = store.query({ entityIds: ['P0'] });
    expect(byParent.map((e) => e.process?.entity_id)).toEqual(['P1', 'P2']);
    expect(store.query({ paths: ['/tmp/payload.sh'] }).map((e) => e.event.action)).toEqual(['write', 'exec']);
    expect(store.query({ pathPrefixes: ['/etc/'] }).map((e) => e.file?.path)).toEqual(['/etc/shadow']);
    expect(store.query({ endpoints: [{ ip: '127.0.0.1', port: 4444 }] }).map((e) => e.event.dataset)).toEqual(['provmon.network', 'provmon.flow']);
    expect(store.query({ from: T0 + 15, to: T0 + 35 }).map((e) => e.event.action)).toEqual(['exec', 'read']);
    expect(store.query({ datasets: ['provmon.dns'] })).toHaveLength(1);
    store.close();
  });

  test('rotates by size and counts the events of files deleted by the max-files bound', () => {
    const dir = newDir();
    const store = new LocalStore({ dir, rotateBytes: 2000, maxFiles: 2 });
    let written = 0;
    for (let i = 0; i < 200; i++) {
      store.write(makeEvent('file', 'open', T0 + i, { process: proc(`E${i}`), file: { path: `/data/f${i}` } }));
      written += 1;
    }
    store.flush();
    expect(store.stats.rotations).toBeGreaterThan(2);
    expect(existsSync(join(dir, 'forensic-events.jsonl'))).toBe(true);
    const remaining = store.query({ datasets: ['provmon.file'] }).length;
    expect(store.stats.evicted).toBeGreaterThan(0);
    expect(remaining + store.stats.evicted).toBe(written);
    expect(store.index.count()).toBe(remaining);
    store.close();
  });

  test('after a crash, lines in the file that never reached the index are indexed on restart', () => {
    const dir = newDir();
    const first = new LocalStore({ dir });
    for (const e of sampleEvents()) first.write(e);
    first.close();
    // As if the sensor died after write(2) but before the index transaction committed.
    const lost = makeEvent('file', 'deletion', T0 + 99, { process: proc('P9'), file: { path: '/tmp/gone' } });
    appendFileSync(join(dir, 'forensic-events.jsonl'), `${JSON.stringify(lost)}\n{"torn":`);
    const second = new LocalStore({ dir });
    expect(second.stats.reindexed).toBe(1);
    expect(second.query({ entityIds: ['P9'] }).map((e) => e.file?.path)).toEqual(['/tmp/gone']);
    expect(second.query({ entityIds: ['P2'] })).toHaveLength(3);
    second.close();
  });
});
