import { describe, expect, test } from 'bun:test';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdTable } from './fd-table.ts';

describe('fd table', () => {
  test('names files and socket peers by (process, fd), forgets them on close and exit', () => {
    const fds = new FdTable();
    fds.set(10, 3, { kind: 'file', path: '/etc/passwd' });
    fds.set(10, 4, { kind: 'socket', family: 'ipv4', transport: 'tcp' });
    fds.updateSocket(10, 4, { remote: { ip: '127.0.0.1', port: 80 }, role: 'client' });
    expect(fds.get(10, 4)).toEqual({ kind: 'socket', family: 'ipv4', transport: 'tcp', remote: { ip: '127.0.0.1', port: 80 }, role: 'client' });
    expect(fds.close(10, 3)).toEqual({ kind: 'file', path: '/etc/passwd' });
    expect(fds.get(10, 3)).toBeUndefined();
    fds.exit(10);
    expect(fds.get(10, 4)).toBeUndefined();
  });

  test('a forked child inherits copies of the parent descriptors', () => {
    const fds = new FdTable();
    fds.set(1, 5, { kind: 'file', path: '/tmp/a' });
    fds.fork(1, 2);
    fds.close(1, 5);
    expect(fds.get(2, 5)).toEqual({ kind: 'file', path: '/tmp/a' });
  });

  test('the per-process bound evicts and counts', () => {
    const fds = new FdTable(2);
    for (let fd = 0; fd < 5; fd++) fds.set(7, fd, { kind: 'other', what: 'x' });
    expect(fds.evicted).toBe(3);
    expect(fds.get(7, 4)).toBeDefined();
    expect(fds.get(7, 0)).toBeUndefined();
  });

  test('seeds open files of a running process from /proc', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'provmon-fd-')), 'held');
    writeFileSync(path, 'x');
    const fd = openSync(path, 'r');
    try {
      const fds = new FdTable();
      fds.seedFromProc([process.pid]);
      expect(fds.get(process.pid, fd)).toEqual({ kind: 'file', path });
    } finally {
      closeSync(fd);
    }
  });
});
