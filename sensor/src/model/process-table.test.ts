import { describe, expect, test } from 'bun:test';
import { hostIdentity, parseOsRelease, readHostOs } from './host.ts';
import { ticksFromBootNs } from './entity-id.ts';
import { parseStat, readProcess, scanProcesses } from './proc-scan.ts';
import { ProcessTable } from './process-table.ts';

const host = hostIdentity('test-host');

describe('/proc scan', () => {
  test('parses a comm holding spaces and parentheses', () => {
    const stat = '4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200';
    expect(parseStat(stat)).toEqual({ name: 'a) b (c)', ppid: 17, startTicks: 98765, ttyNr: 0 });
  });

  test('describes this very process: executable, args, parent and a start time near now', () => {
    const self = readProcess(process.pid)!;
    expect(self.ppid).toBe(process.ppid);
    expect(self.executable).toBe(process.execPath);
    expect(self.args.length).toBeGreaterThan(0);
    const table = new ProcessTable({ host });
    const startMs = Date.parse(table.startIso(self.startTicks));
    expect(Math.abs(startMs - performance.timeOrigin)).toBeLessThan(60_000);
  });

  test('a child process is seen with its parent entity id, identical across two scans', () => {
    const child = Bun.spawn(['sleep', '30']);
    try {
      const first = new ProcessTable({ host });
      first.seedFromProc();
      const second = new ProcessTable({ host });
      second.seedFromProc(scanProcesses());
      const a = first.get(child.pid)!;
      expect(a.executable).toBe('/usr/bin/sleep');
      expect(a.args).toEqual(['sleep', '30']);
      expect(a.parentEntityId).toBe(first.get(process.pid)!.entityId);
      expect(second.get(child.pid)!.entityId).toBe(a.entityId);
    } finally {
      child.kill();
    }
  });
});

describe('process table', () => {
  test('fork copies the parent image, exec replaces it and keeps the entity id', () => {
    const table = new ProcessTable({ host });
    table.seedFromProc([{ pid: 10, ppid: 1, name: 'bash', executable: '/usr/bin/bash', args: ['bash'], startTicks: 500, uid: 0, gid: 0, cwd: '/', ttyNr: 0 }]);
    const child = table.fork(10, 11, 600, 0);
    expect(child.parentEntityId).toBe(table.get(10)!.entityId);
    expect(child.executable).toBe('/usr/bin/bash');
    const after = table.exec(11, { executable: '/usr/bin/curl', args: ['curl', 'x'], name: 'curl', startTicks: 600, ppid: 10, uid: 0, gid: 0 }, 1);
    expect(after.entityId).toBe(child.entityId);
    expect(after.executable).toBe('/usr/bin/curl');
  });

  test('a reused pid gets a new entity id', () => {
    const table = new ProcessTable({ host, lingerMs: 0 });
    const first = table.fork(1, 300, 1000, 0);
    table.exit(300, 0, 1);
    const second = table.fork(1, 300, 2000, 2);
    expect(second.entityId).not.toBe(first.entityId);
    expect(table.get(300)!.entityId).toBe(second.entityId);
  });

  test('an exited process stays resolvable for the linger time, then goes', () => {
    const table = new ProcessTable({ host, lingerMs: 1000 });
    table.fork(1, 400, 10, 0);
    expect(table.exit(400, 3, 100)!.exitCode).toBe(3);
    table.expire(500);
    expect(table.get(400)).toBeDefined();
    table.expire(1200);
    expect(table.get(400)).toBeUndefined();
  });

  test('the entry bound evicts and counts', () => {
    const table = new ProcessTable({ host, maxEntries: 2 });
    table.fork(1, 2, 1, 0);
    table.fork(1, 3, 1, 0);
    table.fork(1, 4, 1, 0);
    expect(table.size).toBe(2);
    expect(table.evicted).toBe(1);
  });

  test('kernel nanoseconds convert to the ticks /proc reports', () => {
    expect(ticksFromBootNs(123_456_789_012n)).toBe(12345);
    expect(ticksFromBootNs(9_999_999)).toBe(0);
  });
});

describe('host operating system', () => {
  test('os-release fields map to host.os, with quoting and ID_LIKE as the family', () => {
    const fields = parseOsRelease('NAME="Ubuntu"\nVERSION="24.04 LTS (Noble)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04 LTS"\n# c\n');
    expect(fields).toEqual({ NAME: 'Ubuntu', VERSION: '24.04 LTS (Noble)', ID: 'ubuntu', ID_LIKE: 'debian', PRETTY_NAME: 'Ubuntu 24.04 LTS' });
    const os = readHostOs('6.1.0');
    expect(os.type).toBe('linux');
    expect(os.kernel).toBe('6.1.0');
    expect(os.platform.length).toBeGreaterThan(0);
  });
});
