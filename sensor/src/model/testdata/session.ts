/** A session of records touching every record kind the builder handles (shared by the builder's document tests). */
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { Flag, O, type PmRecord, type SetidRecord } from '../../ebpf/records.ts';
import { FdTable } from '../fd-table.ts';
import { hostIdentity } from '../host.ts';
import { ProcessTable } from '../process-table.ts';
import { SyscallEventBuilder } from '../syscall-events.ts';
import { execRecord, fileRecord, forkRecord, header, ioRecord, netRecord } from './records.ts';

const host = hostIdentity('ecs-test');

/** A session touching every record kind: shell forks curl, which connects, writes a file, renames it, ... */
export function session(): PmRecord[] {
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

/** Every document the session makes, plus an already_running state document. */
export function build(): EcsEvent[] {
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
