/**
 * Decoded kernel records for builder tests: the shapes records.ts produces, filled with plausible values, so the
 * document builder can be tested without a kernel.
 */
import type { ExecRecord, FileKind, FileRecord, ForkRecord, IoRecord, NetKind, NetRecord, RecordHeader } from '../../ebpf/records.ts';
import { NS_PER_TICK } from '../host.ts';

export const START_NS = 5_000 * NS_PER_TICK;

export function header(tgid: number, over: Partial<RecordHeader> = {}): RecordHeader {
  return {
    recordFlags: 0, tsNs: 9_000_000_000, pid: tgid, tgid, ppid: 1, uid: 1000, gid: 1000, euid: 1000, egid: 1000,
    cgroupId: 1, startNs: START_NS, ret: 0, comm: 'worker', ...over,
  };
}

export function execRecord(tgid: number, exe: string, argv: string[], over: Partial<ExecRecord> = {}): ExecRecord {
  return { ...header(tgid), kind: 'execve', dirfd: -100, atFlags: 0, filename: exe, exe, argv, ...over };
}

export function forkRecord(parent: number, child: number, over: Partial<ForkRecord> = {}): ForkRecord {
  return { ...header(parent, { ret: child }), kind: 'fork', childPid: child, childTgid: child, cloneFlags: 0, childStartNs: START_NS + 10 * NS_PER_TICK, via: 'clone', ...over };
}

export function fileRecord(tgid: number, kind: FileKind, path: string, over: Partial<FileRecord> = {}): FileRecord {
  return { ...header(tgid), kind, dirfd: -100, dirfd2: -100, flags: 0, mode: 0, resolve: 0, path, path2: null, ...over };
}

export function ioRecord(tgid: number, fd: number, over: Partial<IoRecord> = {}): IoRecord {
  return {
    ...header(tgid), kind: 'close', fd, reason: 'close', rdCalls: 0, rdBytes: 0, wrCalls: 0, wrBytes: 0,
    rdFirstNs: 0, rdLastNs: 0, wrFirstNs: 0, wrLastNs: 0, errors: 0, ...over,
  };
}

export function netRecord(tgid: number, kind: NetKind, over: Partial<NetRecord> = {}): NetRecord {
  return {
    ...header(tgid), kind, fd: 3, family: 2, type: 1, protocol: 6, localAddress: null, localPort: 0,
    remoteAddress: null, remotePort: 0, unixPath: null, arg: 0, ...over,
  };
}
