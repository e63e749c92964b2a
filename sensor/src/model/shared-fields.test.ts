/**
 * The builder shares a document's repeated parts (process, file path fields, user/group, data_stream, host) between
 * documents: shared while they hold, fresh when what they come from changes, never changed by a later document.
 */
import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { PmRecord } from '../ebpf/records.ts';
import { FdTable } from './fd-table.ts';
import { hostIdentity } from './host.ts';
import { ProcessTable } from './process-table.ts';
import { SyscallEventBuilder } from './syscall-events.ts';
import { execRecord, fileRecord, forkRecord, header, ioRecord } from './testdata/records.ts';

describe('the builder shares a process\'s fields only while they hold', () => {
  function feedAll(records: PmRecord[]): EcsEvent[] {
    const host = hostIdentity('shared-fields-test');
    const b = new SyscallEventBuilder({
      host, processes: new ProcessTable({ host }), fds: new FdTable(), namespace: 'default', bootId: 'b00710',
      toIso: (ns) => new Date(host.bootTimeMs + ns / 1e6).toISOString(), toEpochMs: (ns) => host.bootTimeMs + ns / 1e6,
    });
    const docs: EcsEvent[] = [];
    for (const r of records) b.handle(r, (d) => docs.push(d));
    // what each document said when it was emitted, read after all of them: a later change to a shared part shows
    return docs.map((d) => JSON.parse(JSON.stringify(d)) as EcsEvent);
  }

  test("one process's documents share its fields, and an open and its reads share the file fields", () => {
    const host = hostIdentity('shared-fields-test');
    const b = new SyscallEventBuilder({
      host, processes: new ProcessTable({ host }), fds: new FdTable(), namespace: 'default', bootId: 'b00710',
      toIso: (ns) => new Date(host.bootTimeMs + ns / 1e6).toISOString(), toEpochMs: (ns) => host.bootTimeMs + ns / 1e6,
    });
    const docs: EcsEvent[] = [];
    for (const r of [
      execRecord(10, '/usr/bin/cat', ['cat', '/etc/hosts']),
      fileRecord(10, 'openat', '/etc/hosts', { flags: 0, ret: 3 }),
      ioRecord(10, 3, { rdCalls: 1, rdBytes: 10, rdFirstNs: 1, rdLastNs: 1 }),
    ] as PmRecord[]) b.handle(r, (d) => docs.push(d));
    expect(docs.map((d) => d.event.action)).toEqual(['exec', 'open', 'read']);
    expect(new Set(docs.map((d) => d.process)).size).toBe(1);
    expect(new Set(docs.map((d) => d.host)).size).toBe(1);
    expect(new Set(docs.map((d) => d.user)).size).toBe(1);
    expect(docs[1]!.file).toBe(docs[2]!.file!);
    expect(docs[1]!.data_stream).toBe(docs[2]!.data_stream);
  });

  test('a new image, the exit and a reused pid each show in the documents that follow', () => {
    const fork = forkRecord(10, 11);
    const child = { ppid: 10, startNs: fork.childStartNs };
    const docs = feedAll([
      execRecord(10, '/usr/bin/bash', ['bash']),
      fork,
      fileRecord(11, 'openat', '/etc/hosts', { ...child, flags: 0, ret: 3 }),
      ioRecord(11, 3, { ...child, rdCalls: 1, rdBytes: 10, rdFirstNs: 1, rdLastNs: 1 }),
      execRecord(11, '/usr/bin/curl', ['curl', 'http://x/'], child),
      fileRecord(11, 'openat', '/etc/hosts', { ...child, flags: 0, ret: 3 }),
      { ...header(11, child), kind: 'exit', status: 0, exitCode: 0, signal: 0, coreDumped: false },
      // the pid comes back as another process (another start time)
      execRecord(11, '/usr/bin/env', ['env'], { ppid: 10, startNs: fork.childStartNs + 5e9 }),
      fileRecord(11, 'openat', '/etc/hosts', { ppid: 10, startNs: fork.childStartNs + 5e9, flags: 0, ret: 3 }),
    ]);
    const opens = docs.filter((d) => d.event.action === 'open');
    expect(opens.map((d) => d.process?.args)).toEqual([['bash'], ['curl', 'http://x/'], ['env']]);
    expect(opens.map((d) => d.process?.end)).toEqual([undefined, undefined, undefined]);
    const end = docs.find((d) => d.event.action === 'end')!;
    expect(end.process?.args).toEqual(['curl', 'http://x/']);
    expect(typeof end.process?.end).toBe('string');
    expect(new Set(opens.map((d) => d.process?.entity_id)).size).toBe(2); // the reused pid is another entity
  });

  test('a permission change or a directory deletion adds to its file fields without touching the shared ones', () => {
    const docs = feedAll([
      execRecord(10, '/usr/bin/bash', ['bash']),
      fileRecord(10, 'openat', '/tmp/d', { flags: 0, ret: 3 }),
      fileRecord(10, 'fchmodat', '/tmp/d', { mode: 0o700 }),
      fileRecord(10, 'unlinkat', '/tmp/d', { flags: 0x200 }),
      fileRecord(10, 'openat', '/tmp/d', { flags: 0, ret: 3 }),
    ]);
    expect(docs.slice(1).map((d) => d.file)).toEqual([
      { path: '/tmp/d', name: 'd', directory: '/tmp' },
      { path: '/tmp/d', name: 'd', directory: '/tmp', mode: '0700' },
      { path: '/tmp/d', name: 'd', directory: '/tmp', type: 'dir' },
      { path: '/tmp/d', name: 'd', directory: '/tmp' },
    ]);
  });
});
