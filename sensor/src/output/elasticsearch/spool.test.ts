import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvmonError } from '../../errors.ts';
import { DiskSpool, DROPS_FILE } from './spool.ts';
import { removeTempDirs, tempDir } from './testdata/es-helpers.ts';

const newDir = () => join(tempDir('spool'), 'es-spool');
afterAll(removeTempDirs);
const body = (ids: number[]) => ids.map((i) => `{"create":{"_index":"logs-provmon.process-default","_id":"d${i}"}}\n{"event":{"id":"d${i}"},"pad":"${'p'.repeat(80)}"}\n`).join('');
const ids = (text: string) => [...text.matchAll(/"_id":"(d\d+)"/g)].map((m) => m[1]);

describe('disk spool', () => {
  test('is created with mode 0700, holds _bulk bodies, and hands them out oldest first', () => {
    const dir = newDir();
    const spool = new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    spool.append(body([1, 2]), 2);
    spool.append(body([3]), 1);
    expect(spool.docs).toBe(3);
    expect(spool.files).toBe(2);
    const first = spool.next()!;
    const second = spool.next()!;
    expect(spool.next()).toBeUndefined(); // both in use
    expect(ids(spool.read(first))).toEqual(['d1', 'd2']);
    expect(ids(spool.read(second))).toEqual(['d3']);
    // segment files are exactly what _bulk takes, mode 0600
    expect(statSync(join(dir, first.file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, first.file), 'utf8')).toBe(body([1, 2]));
    spool.release(second);
    spool.complete(first);
    expect(spool.docs).toBe(1);
    expect(spool.next()!.seq).toBe(second.seq);
    spool.close();
  });

  test('a partly delivered segment keeps only the rest, under the same place in the order', () => {
    const spool = new DiskSpool({ dir: newDir(), maxBytes: 1 << 20, whenFull: 'drop_oldest' });
    spool.append(body([1, 2, 3]), 3);
    spool.append(body([4]), 1);
    const seg = spool.next()!;
    spool.rewrite(seg, body([2]), 1);
    expect(spool.docs).toBe(2);
    const again = spool.next()!;
    expect(ids(spool.read(again))).toEqual(['d2']);
    spool.close();
  });

  test('survives a restart: segments come back in order; torn temporary files and superseded rewrites are cleaned', () => {
    const dir = newDir();
    const a = new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' });
    a.append(body([1, 2]), 2);
    a.append(body([3]), 1);
    a.close();
    // a crash mid-write leaves a temporary file; a crash mid-rewrite leaves both versions of a segment
    writeFileSync(join(dir, '.0000000000000003-1.ndjson.tmp'), '{"create"');
    writeFileSync(join(dir, '0000000000000001-1.ndjson'), body([2]));
    const b = new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' });
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(b.docs).toBe(2);
    expect(ids(b.read(b.next()!))).toEqual(['d2']);
    expect(ids(b.read(b.next()!))).toEqual(['d3']);
    b.append(body([4]), 1); // numbering continues after the recovered segments
    expect(readdirSync(dir).filter((f) => f.startsWith('0000000000000003-'))).toHaveLength(1);
    b.close();
  });

  test('drop_oldest: the oldest segments go, each dropped document is counted and recorded', () => {
    const dir = newDir();
    const one = Buffer.byteLength(body([1]));
    const drops: number[] = [];
    const spool = new DiskSpool({ dir, maxBytes: one * 3, whenFull: 'drop_oldest', onDrop: (n) => drops.push(n) });
    for (let i = 1; i <= 5; i++) spool.append(body([i]), 1);
    expect(spool.files).toBe(3);
    expect(spool.counters.dropped_docs).toBe(2);
    expect(drops).toEqual([1, 1]);
    expect(ids(spool.read(spool.next()!))).toEqual(['d3']);
    const recorded = readFileSync(join(dir, DROPS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { docs: number; why: string });
    expect(recorded.map((r) => r.docs)).toEqual([1, 1]);
    expect(recorded[0]!.why).toContain('oldest');
    spool.close();
  });

  test('drop_oldest never deletes a segment that is being replayed; then the new batch is dropped', () => {
    const one = Buffer.byteLength(body([1]));
    const spool = new DiskSpool({ dir: newDir(), maxBytes: one, whenFull: 'drop_oldest' });
    spool.append(body([1]), 1);
    spool.next();
    expect(spool.append(body([2]), 1)).toBe(1);
    expect(spool.docs).toBe(1);
    expect(spool.counters.dropped_docs).toBe(1);
    spool.close();
  });

  test('drop_newest: the new batch is dropped and counted; what is spooled stays', () => {
    const one = Buffer.byteLength(body([1]));
    const spool = new DiskSpool({ dir: newDir(), maxBytes: one * 2, whenFull: 'drop_newest' });
    for (let i = 1; i <= 4; i++) spool.append(body([i]), 1);
    expect(spool.counters.dropped_docs).toBe(2);
    expect(ids(spool.read(spool.next()!))).toEqual(['d1']);
    spool.close();
  });

  test('two live processes cannot share a spool; a stale lock is taken over', () => {
    const dir = newDir();
    new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' }).close();
    writeFileSync(join(dir, 'lock'), '1\n'); // pid 1 is alive and is not us
    expect(() => new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' })).toThrow(ProvmonError);
    writeFileSync(join(dir, 'lock'), '999999999\n'); // no such process
    const s = new DiskSpool({ dir, maxBytes: 1 << 20, whenFull: 'drop_oldest' });
    expect(readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    s.close();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });
});
