/**
 * The document builder on decoded records (no kernel): what each record becomes, and which fields come from the
 * kernel's flags rather than from guesses.
 */
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { Flag, O, type ChannelRecord, type PmRecord } from '../ebpf/records.ts';
import { FdTable } from './fd-table.ts';
import { hostIdentity } from './host.ts';
import { ProcessTable } from './process-table.ts';
import { AccountNames } from './account-names.ts';
import { communityIdFromText } from '../pcap/community-id.ts';
import { SyscallEventBuilder, ttyDevice } from './syscall-events.ts';
import { execRecord, fileRecord, forkRecord, header, ioRecord, netRecord } from './testdata/records.ts';

const host = hostIdentity('builder-test');

function builder() {
  const processes = new ProcessTable({ host });
  const fds = new FdTable();
  const b = new SyscallEventBuilder({
    host, processes, fds, namespace: 'default', bootId: 'b00710', toIso: (ns) => new Date(host.bootTimeMs + ns / 1e6).toISOString(),
    toEpochMs: (ns) => host.bootTimeMs + ns / 1e6,
  });
  const docs: EcsEvent[] = [];
  const feed = (...recs: PmRecord[]) => {
    for (const r of recs) b.handle(r, (d) => docs.push(d));
    return docs;
  };
  return { b, processes, fds, docs, feed };
}

describe('file creation comes from the kernel flag', () => {
  test('an open the kernel marks CREATED is a creation, whatever the flags asked for', () => {
    const { feed } = builder();
    const [doc] = feed(fileRecord(100, 'openat', '/tmp/new-file', { flags: O.WRONLY | O.CREAT | O.TRUNC, recordFlags: Flag.CREATED, ret: 3 }));
    expect(doc!.event.action).toBe('creation');
    expect(doc!.event.type).toEqual(['creation']);
    expect(doc!.file?.path).toBe('/tmp/new-file');
  });

  test('O_CREAT|O_EXCL on a file that exists fails and is not a creation', () => {
    const { feed } = builder();
    const [doc] = feed(fileRecord(100, 'openat', '/tmp/exists', { flags: O.WRONLY | O.CREAT | O.EXCL, ret: -17 }));
    expect(doc!.event.action).toBe('open');
    expect(doc!.event.outcome).toBe('failure');
    expect(doc!.error?.code).toBe('EEXIST');
  });

  test('O_CREAT on an existing file opens it', () => {
    const { feed } = builder();
    const [doc] = feed(fileRecord(100, 'openat', '/tmp/exists', { flags: O.WRONLY | O.CREAT, ret: 3 }));
    expect(doc!.event.action).toBe('open');
    expect(doc!.event.type).toEqual(['access']);
  });
});

describe('interval I/O flushes (no task context in the record)', () => {
  test('take user, group and process from the process table, not the zeroed header', () => {
    const { feed, docs } = builder();
    feed(execRecord(200, '/usr/bin/dd', ['dd', 'of=/tmp/out'], { euid: 1234, egid: 2345, uid: 1234, gid: 2345 }));
    feed(fileRecord(200, 'openat', '/tmp/out', { flags: O.WRONLY, ret: 4, euid: 1234, egid: 2345 }));
    const zeroed = header(200, { recordFlags: Flag.NO_TASK, pid: 0, ppid: 0, uid: 0, gid: 0, euid: 0, egid: 0, startNs: 0, comm: '' });
    const write = feed(ioRecord(200, 4, { ...zeroed, kind: 'io', reason: 'interval', wrCalls: 3, wrBytes: 300, wrFirstNs: 1, wrLastNs: 2 })).at(-1)!;
    expect(write.event.action).toBe('write');
    expect(write.user).toEqual({ id: '1234' });
    expect(write.group).toEqual({ id: '2345' });
    expect(write.process?.entity_id).toBe(docs[0]!.process!.entity_id);
    expect(write.process?.executable).toBe('/usr/bin/dd');
  });

  test('for a process the table never saw, describe it from /proc', () => {
    const { feed, fds } = builder();
    fds.set(process.pid, 9, { kind: 'file', path: '/tmp/seen' });
    const zeroed = header(process.pid, { recordFlags: Flag.NO_TASK, pid: 0, ppid: 0, uid: 0, gid: 0, euid: 0, egid: 0, startNs: 0, comm: '' });
    const [read] = feed(ioRecord(process.pid, 9, { ...zeroed, kind: 'io', reason: 'interval', rdCalls: 1, rdBytes: 10, rdFirstNs: 1, rdLastNs: 1 }));
    expect(read!.process?.executable).toBe(process.execPath);
    expect(read!.process?.parent?.pid).toBe(process.ppid);
    expect(read!.user?.id).toBe(String(process.geteuid!()));
  });
});

describe('truncation is a field', () => {
  test('a cut path and cut argv are named in provmon.truncated', () => {
    const { feed } = builder();
    const [exec] = feed(execRecord(300, '/usr/bin/echo', ['echo', 'x'.repeat(10)], { recordFlags: Flag.TRUNC_ARGS | Flag.TRUNC_ARG }));
    expect(exec!.provmon?.truncated).toEqual(['args', 'arg']);
    const [open] = feed(fileRecord(300, 'openat', '/tmp/long', { recordFlags: Flag.TRUNC_PATH, ret: 3 })).slice(1);
    expect(open!.provmon?.truncated).toEqual(['path']);
    expect(open!.provmon?.open).toBeDefined();
  });

  test('a whole record has no provmon.truncated', () => {
    const { feed } = builder();
    const [exec] = feed(execRecord(301, '/usr/bin/true', ['true']));
    expect(exec!.provmon?.truncated).toBeUndefined();
  });
});

describe('process lineage', () => {
  test('fork then exec: the child keeps its entity id and names its parent', () => {
    const { feed } = builder();
    feed(execRecord(400, '/usr/bin/bash', ['bash']));
    const [fork, exec] = feed(forkRecord(400, 401), execRecord(401, '/usr/bin/curl', ['curl', '-s', 'http://x/'], { startNs: forkRecord(400, 401).childStartNs, ppid: 400 })).slice(1);
    expect(fork!.process?.entity_id).toBe(exec!.process!.entity_id);
    expect(exec!.process?.parent?.executable).toBe('/usr/bin/bash');
    expect(exec!.process?.args).toEqual(['curl', '-s', 'http://x/']);
  });
});

describe('fields detection content reads', () => {
  test('every document names the host OS and architecture', () => {
    const { feed } = builder();
    const docs = feed(execRecord(500, '/usr/bin/true', ['true']), fileRecord(500, 'unlinkat', '/tmp/x'));
    for (const d of docs) {
      expect(d.host.os?.type).toBe('linux');
      expect(d.host.os?.kernel).toBe(release());
      expect(d.host.architecture).toBe(process.arch === 'x64' ? 'x86_64' : 'aarch64');
    }
  });

  test('exec: command line, working directory and terminal from the running process; parent args and command line', () => {
    const child = Bun.spawn(['sleep', '30'], { cwd: '/tmp' });
    try {
      const { feed } = builder();
      feed(execRecord(600, '/usr/bin/bash', ['bash', '-c', 'sleep 30']));
      const [exec] = feed(execRecord(child.pid, '/usr/bin/sleep', ['sleep', '30'], { ppid: 600 })).slice(1);
      expect(exec!.process).toMatchObject({
        command_line: 'sleep 30',
        working_directory: '/tmp',
        interactive: false,
        parent: { name: 'worker', executable: '/usr/bin/bash', args: ['bash', '-c', 'sleep 30'], args_count: 3, command_line: 'bash -c sleep 30' },
      });
      expect(exec!.process?.tty).toBeUndefined();
    } finally {
      child.kill();
    }
  });

  test('an exec whose process is gone keeps the working directory and terminal it inherited', () => {
    const { feed, processes } = builder();
    feed(execRecord(700, '/usr/bin/bash', ['bash']));
    processes.get(700)!.cwd = '/home/alice';
    processes.get(700)!.ttyNr = 34816 + 3;
    const gone = 2 ** 22 + 11; // above pid_max: never a live pid
    const fork = forkRecord(700, gone);
    const [exec] = feed(fork, execRecord(gone, '/usr/bin/id', ['id'], { ppid: 700, startNs: fork.childStartNs })).slice(2);
    expect(exec!.process).toMatchObject({ working_directory: '/home/alice', interactive: true, tty: { char_device: { major: 136, minor: 3 } } });
  });

  test('user.name and group.name from the account files; an unknown id has no name', () => {
    const dir = mkdtempSync('/tmp/provmon-accounts-');
    writeFileSync(`${dir}/passwd`, 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n');
    writeFileSync(`${dir}/group`, 'root:x:0:\nstaff:x:1000:alice\n');
    const processes = new ProcessTable({ host });
    const b = new SyscallEventBuilder({
      host, processes, fds: new FdTable(), namespace: 'default', bootId: 'b', toIso: (ns) => new Date(ns / 1e6).toISOString(), toEpochMs: (ns) => ns / 1e6,
      accounts: new AccountNames({ passwdPath: `${dir}/passwd`, groupPath: `${dir}/group` }),
    });
    const docs: EcsEvent[] = [];
    b.handle(execRecord(800, '/usr/bin/id', ['id']), (d) => docs.push(d));
    b.handle(execRecord(801, '/usr/bin/id', ['id'], { euid: 4242, egid: 4242 }), (d) => docs.push(d));
    expect(docs[0]!.user).toEqual({ id: '1000', name: 'alice' });
    expect(docs[0]!.group).toEqual({ id: '1000', name: 'staff' });
    expect(docs[1]!.user).toEqual({ id: '4242' });
    expect(docs[1]!.group).toEqual({ id: '4242' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('the terminal number decodes as the kernel encodes it', () => {
    expect(ttyDevice(34816)).toEqual({ major: 136, minor: 0 }); // /dev/pts/0
    expect(ttyDevice(1025)).toEqual({ major: 4, minor: 1 }); // /dev/tty1
    expect(ttyDevice((136 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12))).toEqual({ major: 136, minor: 300 });
  });

  test('closing a connected socket is disconnect_received', () => {
    const { feed, fds } = builder();
    fds.set(900, 5, { kind: 'socket', family: 'ipv4', transport: 'tcp', local: { ip: '127.0.0.1', port: 40000 }, remote: { ip: '127.0.0.1', port: 80 }, role: 'client' });
    const [doc] = feed(ioRecord(900, 5));
    expect(doc!.event.action).toBe('disconnect_received');
    expect(doc!.event.type).toEqual(['end']);
  });
});

describe('pipes and unix sockets', () => {
  const channel = (tgid: number, via: ChannelRecord['via'], fds: [number, number], inodes: [number, number], socks: [string, string] = ['', '']): ChannelRecord => ({ ...header(tgid), kind: 'channel', via, fds, inodes, socks });

  test('curl | sh: the writer and the reader of one pipe name the same pipe, through fork and dup2', () => {
    const { feed } = builder();
    feed(execRecord(1000, '/usr/bin/bash', ['bash']), channel(1000, 'pipe', [3, 4], [777, 777]));
    feed(forkRecord(1000, 1001), { ...header(1001), kind: 'dup', oldfd: 4, newfd: 1, flags: 0, via: 'dup2', ret: 1 });
    feed(forkRecord(1000, 1002), { ...header(1002), kind: 'dup', oldfd: 3, newfd: 0, flags: 0, via: 'dup2', ret: 0 });
    const write = feed(ioRecord(1001, 1, { wrCalls: 2, wrBytes: 120, wrFirstNs: 1, wrLastNs: 2 })).at(-1)!;
    const read = feed(ioRecord(1002, 0, { rdCalls: 3, rdBytes: 120, rdFirstNs: 2, rdLastNs: 3 })).at(-1)!;
    expect(write.event).toMatchObject({ action: 'write', dataset: 'provmon.file', type: ['change'] });
    expect(read.event).toMatchObject({ action: 'read', dataset: 'provmon.file', type: ['access'] });
    for (const d of [write, read]) {
      expect(d.file).toEqual({ path: 'pipe:[777]', type: 'pipe', inode: '777' });
      expect(d.provmon?.channel).toEqual({ kind: 'pipe', id: '777' });
    }
  });

  test('a unix connection: both ends share one identity, whichever record of the accept comes first; no kernel address leaks', () => {
    for (const channelFirst of [false, true]) {
      const { feed } = builder();
      feed(netRecord(2000, 'connect', { fd: 5, family: 1, unixPath: '/run/app.sock' }), channel(2000, 'unix_connect', [5, -1], [9001, 0], ['ffff8880aaaa0000', 'ffff8880bbbb0000']));
      const accept = netRecord(2100, 'accept4', { fd: 3, ret: 6, family: 1 });
      const chan = channel(2100, 'unix_accept', [6, -1], [9002, 0], ['ffff8880bbbb0000', 'ffff8880aaaa0000']);
      feed(...(channelFirst ? [chan, accept] : [accept, chan]));
      const sent = feed(ioRecord(2000, 5, { wrCalls: 1, wrBytes: 5, wrFirstNs: 1, wrLastNs: 1 })).at(-1)!;
      const got = feed(ioRecord(2100, 6, { rdCalls: 1, rdBytes: 5, rdFirstNs: 2, rdLastNs: 2 })).at(-1)!;
      expect([sent.event.action, got.event.action]).toEqual(['write', 'read']);
      expect(sent.file?.path).toMatch(/^unix-socket:\[[0-9a-f]{16}\]$/);
      expect(got.file?.path).toBe(sent.file!.path);
      expect(got.provmon?.channel).toEqual({ kind: 'unix_socket', id: sent.provmon!.channel!.id });
      expect(JSON.stringify([sent, got])).not.toContain('ffff8880');
    }
  });

  test('another connection through the same listening socket is another channel', () => {
    const { feed } = builder();
    feed(channel(2000, 'unix_connect', [5, -1], [1, 0], ['a1', 'b1']), channel(2000, 'unix_connect', [6, -1], [2, 0], ['a2', 'b2']));
    const one = feed(ioRecord(2000, 5, { wrCalls: 1, wrBytes: 5, wrFirstNs: 1, wrLastNs: 1 })).at(-1)!;
    const two = feed(ioRecord(2000, 6, { wrCalls: 1, wrBytes: 5, wrFirstNs: 1, wrLastNs: 1 })).at(-1)!;
    expect(one.file?.path).not.toBe(two.file?.path);
  });

  test('a socketpair joins its two ends', () => {
    const { feed } = builder();
    feed(channel(3000, 'socketpair', [3, 4], [5005, 5004], ['c1', 'c2']));
    const a = feed(ioRecord(3000, 3, { wrCalls: 1, wrBytes: 1, wrFirstNs: 1, wrLastNs: 1 })).at(-1)!;
    const b = feed(ioRecord(3000, 4, { rdCalls: 1, rdBytes: 1, rdFirstNs: 1, rdLastNs: 1 })).at(-1)!;
    expect(a.file?.path).toBe(b.file!.path);
  });

  test('a TCP socket stays a network send/receive', () => {
    const { feed } = builder();
    feed(netRecord(4000, 'socket', { ret: 3 }), netRecord(4000, 'connect', { localAddress: '127.0.0.1', localPort: 4000, remoteAddress: '127.0.0.1', remotePort: 80 }));
    const [send] = feed(ioRecord(4000, 3, { kind: 'io', reason: 'interval', wrCalls: 1, wrBytes: 5, wrFirstNs: 1, wrLastNs: 1 })).slice(2);
    expect(send!.event.action).toBe('send');
    expect(send!.file).toBeUndefined();
  });
});

describe('community id on socket documents', () => {
  test("a connect and the server's accept of the same connection carry the flow's Community ID", () => {
    const { feed } = builder();
    const [connect] = feed(netRecord(5000, 'connect', { localAddress: '127.0.0.1', localPort: 50123, remoteAddress: '127.0.0.1', remotePort: 8080 }));
    const [accept] = feed(netRecord(5001, 'accept4', { fd: 3, ret: 4, family: 10, localAddress: '::ffff:127.0.0.1', localPort: 8080, remoteAddress: '::ffff:127.0.0.1', remotePort: 50123 }));
    const expected = communityIdFromText('127.0.0.1', '127.0.0.1', 6, 50123, 8080);
    expect(connect!.network?.community_id).toBe(expected);
    expect(accept!.network?.community_id).toBe(expected);
    const [send] = feed(ioRecord(5000, 3, { wrCalls: 1, wrBytes: 10, wrFirstNs: 1, wrLastNs: 1 }));
    expect(send!.network?.community_id).toBe(expected);
  });
});
