/**
 * Every kind of document the syscall builder writes, checked against the official ECS definitions (@elastic/ecs).
 * The same check runs over a real sensor's output in run/ecs-conformance.kernel.test.ts.
 */
import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ecsReport, ecsViolations } from '../../../test/support/ecs-conformance.ts';
import { Flag, O, type PmRecord, type SetidRecord } from '../ebpf/records.ts';
import { FdTable } from './fd-table.ts';
import { hostIdentity } from './host.ts';
import { ProcessTable } from './process-table.ts';
import { SyscallEventBuilder } from './syscall-events.ts';
import { execRecord, fileRecord, forkRecord, header, ioRecord, netRecord } from './testdata/records.ts';

const host = hostIdentity('ecs-test');

/** A session touching every record kind: shell forks curl, which connects, writes a file, renames it, ... */
function session(): PmRecord[] {
  const fork = forkRecord(10, 11);
  const child = { ppid: 10, startNs: fork.childStartNs };
  const setuid: SetidRecord = { ...header(11, child), kind: 'setuid', ids: [1000] };
  return [
    execRecord(10, '/usr/bin/bash', ['bash']),
    fork,
    execRecord(11, '/usr/bin/curl', ['curl', '-o', '/tmp/f', 'http://127.0.0.1:8080/'], { ...child, recordFlags: Flag.TRUNC_ARG }),
    netRecord(11, 'socket', { ...child, ret: 3 }),
    netRecord(11, 'connect', { ...child, localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 8080 }),
    ioRecord(11, 3, { ...child, kind: 'io', reason: 'interval', rdCalls: 2, rdBytes: 100, wrCalls: 1, wrBytes: 80, rdFirstNs: 1, rdLastNs: 2, wrFirstNs: 1, wrLastNs: 1 }),
    ioRecord(11, 3, child),
    fileRecord(11, 'openat', '/tmp/f', { ...child, flags: O.WRONLY | O.CREAT, recordFlags: Flag.CREATED, ret: 4 }),
    ioRecord(11, 4, { ...child, wrCalls: 3, wrBytes: 300, wrFirstNs: 1, wrLastNs: 2 }),
    fileRecord(11, 'openat', '/etc/hosts', { ...child, flags: 0, ret: 4 }),
    ioRecord(11, 4, { ...child, rdCalls: 1, rdBytes: 200, rdFirstNs: 1, rdLastNs: 1 }),
    fileRecord(11, 'renameat2', '/tmp/f', { ...child, path2: '/tmp/g' }),
    fileRecord(11, 'fchmodat', '/tmp/g', { ...child, mode: 0o755 }),
    fileRecord(11, 'unlinkat', '/tmp/g', child),
    fileRecord(11, 'unlinkat', '/tmp/missing', { ...child, ret: -2 }),
    netRecord(11, 'socket', { ...child, ret: 5, family: 10, type: 2, protocol: 17 }),
    netRecord(11, 'sendto', { ...child, fd: 5, family: 10, type: 2, localAddress: '::1', localPort: 5353, remoteAddress: '::1', remotePort: 53 }),
    ioRecord(11, 5, { ...child, wrCalls: 1, wrBytes: 40, wrFirstNs: 1, wrLastNs: 1 }),
    netRecord(11, 'socket', { ...child, ret: 6, family: 1, type: 1, protocol: 0 }),
    netRecord(11, 'connect', { ...child, fd: 6, family: 1, unixPath: '/run/app.sock' }),
    { ...header(11, child), kind: 'channel', via: 'unix_connect', fds: [6, -1], inodes: [4711, 0], socks: ['ffff1', 'ffff2'] },
    ioRecord(11, 6, { ...child, wrCalls: 1, wrBytes: 9, wrFirstNs: 1, wrLastNs: 1 }),
    { ...header(11, child), kind: 'channel', via: 'pipe', fds: [10, 11], inodes: [815, 815], socks: ['', ''] },
    ioRecord(11, 11, { ...child, wrCalls: 1, wrBytes: 9, wrFirstNs: 1, wrLastNs: 1 }),
    ioRecord(11, 10, { ...child, rdCalls: 1, rdBytes: 9, rdFirstNs: 2, rdLastNs: 2 }),
    netRecord(11, 'socket', { ...child, ret: 7 }),
    netRecord(11, 'bind', { ...child, fd: 7, localAddress: '0.0.0.0', localPort: 9000 }),
    netRecord(11, 'listen', { ...child, fd: 7, arg: 128 }),
    netRecord(11, 'accept4', { ...child, fd: 7, ret: 8, localAddress: '127.0.0.1', localPort: 9000, remoteAddress: '127.0.0.1', remotePort: 50000 }),
    netRecord(11, 'connect', { ...child, fd: 9, ret: -111, remoteAddress: '10.0.0.1', remotePort: 1 }),
    setuid,
    { ...header(11, child), kind: 'exit', status: 0x100, exitCode: 1, signal: 0, coreDumped: false },
    { ...header(10), kind: 'exit', status: 9, exitCode: 0, signal: 9, coreDumped: false },
  ];
}

function build(): EcsEvent[] {
  const processes = new ProcessTable({ host });
  const b = new SyscallEventBuilder({
    host, processes, fds: new FdTable(), namespace: 'default', bootId: 'b00710',
    toIso: (ns) => new Date(host.bootTimeMs + ns / 1e6).toISOString(), toEpochMs: (ns) => host.bootTimeMs + ns / 1e6,
  });
  const docs: EcsEvent[] = [];
  for (const r of session()) b.handle(r, (d) => docs.push(d));
  processes.seedFromProc([{ pid: 1, ppid: 0, name: 'init', executable: '/sbin/init', args: ['/sbin/init'], startTicks: 1, uid: 0, gid: 0, cwd: '/', ttyNr: 0 }]);
  docs.push(b.alreadyRunning(processes.get(1)!, new Date().toISOString(), 0));
  return docs;
}

describe('ECS conformance of syscall documents', () => {
  const docs = build();

  test('the session covers every action the syscall datasets define', () => {
    const actions = new Set(docs.map((d) => d.event.action));
    for (const a of ['fork', 'exec', 'end', 'already_running', 'uid_change', 'open', 'creation', 'read', 'write', 'deletion', 'rename', 'permission_change', 'socket', 'bind', 'listen', 'connection_attempted', 'connection_accepted', 'send', 'receive', 'disconnect_received']) {
      expect({ a, present: actions.has(a as EcsEvent['event']['action']) }).toEqual({ a, present: true });
    }
  });

  test('every field is ECS or provmon.*, with its ECS type and allowed values', () => {
    expect(ecsReport(docs)).toEqual({});
  });

  test('pipe and unix-socket I/O is there, named by its channel', () => {
    expect(docs.filter((d) => d.provmon?.channel).map((d) => d.file?.path.replace(/[0-9a-f]{16}/, 'ID'))).toEqual(['unix-socket:[ID]', 'pipe:[815]', 'pipe:[815]']);
  });

  test('every document names the host OS', () => {
    for (const d of docs) expect(d.host.os?.type).toBe('linux');
  });
});

describe('the conformance check itself', () => {
  const good = build()[0]!;

  test('catches a number where ECS says keyword (the old dns.id)', () => {
    expect(ecsViolations({ ...good, dns: { type: 'answer', id: 4711 } })).toEqual(['dns.id: keyword expects a string, got 4711']);
  });

  test('catches a field outside ECS and provmon.*', () => {
    expect(ecsViolations({ ...good, flow: { id: 'x' } })).toEqual(['flow.id: not an ECS field (custom fields belong under provmon.*)']);
  });

  test('catches a disallowed or unexpected categorisation value', () => {
    expect(ecsViolations({ ...good, event: { ...good.event, type: ['connection'] } })).toEqual(['event.type: connection is not expected for category process']);
    expect(ecsViolations({ ...good, event: { ...good.event, kind: 'log' } })).toEqual(['event.kind: "log" is not an allowed value']);
  });

  test('catches a scalar where ECS normalises to an array, and a bad ip', () => {
    expect(ecsViolations({ ...good, event: { ...good.event, category: 'process' } })).toContain('event.category: ECS normalises this field to an array');
    expect(ecsViolations({ ...good, source: { ip: 'localhost' } })).toEqual(['source.ip: ip expects an IPv4/IPv6 address, got "localhost"']);
  });
});
