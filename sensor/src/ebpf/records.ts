/**
 * Typed records decoded from the kernel ring buffer, and the hand-written decoder
 * (the hot path: one call per record, no allocation beyond the record object and its strings).
 *
 * The byte layout is bpf/provmon.h. Its offsets are written once, in `Layout`, which
 * records.kernel.test.ts checks against the compiled object's BTF; the decoder reads
 * every field through that table, so the test covers the offsets that run.
 *
 * Conventions for consumers (process/fd tables, ECS builders):
 *  - Every record has the header fields: the task that made the syscall, sampled at
 *    syscall exit (after execve: the new image's comm and credentials).
 *  - `tsNs` and `startNs` are CLOCK_BOOTTIME nanoseconds; convert with `BootClock`
 *    (clock.ts). `startNs` is the process start (group leader's start_boottime):
 *    /proc/<pid>/stat field 22 is `Math.floor(startNs / (1e9 / CLK_TCK))`, so an entity id
 *    built from it matches one built from /proc.
 *  - `ret` is the syscall's return value; a failure is `-errno` (`errnoName(ret)`).
 *  - Numbers that are u64 in the kernel are JS numbers: exact below 2^53 (ns since boot:
 *    104 days; beyond that timestamps lose a few ns of precision, nothing else).
 */
import { nameFromBytes } from '../../../kibana-plugin/common/escaped-names.ts';

export const Kind = {
  EXECVE: 1,
  EXECVEAT: 2,
  FORK: 3,
  EXIT: 4,
  OPEN: 10,
  OPENAT: 11,
  OPENAT2: 12,
  CLOSE: 13,
  DUP: 14,
  IO: 15,
  FOLD: 16,
  UNLINK: 20,
  UNLINKAT: 21,
  RENAME: 22,
  RENAMEAT: 23,
  RENAMEAT2: 24,
  CHMOD: 25,
  FCHMODAT: 26,
  FCHMODAT2: 27,
  SETUID: 30,
  SETGID: 31,
  SETREUID: 32,
  SETREGID: 33,
  SETRESUID: 34,
  SETRESGID: 35,
  SOCKET: 40,
  CONNECT: 41,
  BIND: 42,
  LISTEN: 43,
  ACCEPT: 44,
  ACCEPT4: 45,
  SENDTO: 46,
  RECVFROM: 47,
  CHANNEL: 48,
} as const;

/** pm_hdr.flags */
export const Flag = {
  TRUNC_PATH: 1 << 0,
  TRUNC_ARGS: 1 << 1,
  TRUNC_ARG: 1 << 2,
  NO_TASK: 1 << 3,
  NO_SYSCALL: 1 << 4,
  TRUNC_EXE: 1 << 5,
  READ_FAULT: 1 << 6,
  /** open*: this call created the file (not just O_CREAT on an existing one) */
  CREATED: 1 << 7,
} as const;

/** Bounds compiled into the kernel side (bpf/provmon.h). */
export const Bounds = {
  PATH_MAX: 512,
  EXE_MAX: 512,
  ARGS_MAX: 4096,
  ARG_MAX: 256,
  ARGC_MAX: 32,
  UNIX_MAX: 108,
} as const;

/* ------------------------------------------------------------------ types */

export interface RecordHeader {
  /** PMF_* bits (truncation, no task context...), see `Flag` */
  recordFlags: number;
  /** CLOCK_BOOTTIME ns */
  tsNs: number;
  /** thread id */
  pid: number;
  /** process id */
  tgid: number;
  /** parent process id (real_parent's tgid) */
  ppid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  cgroupId: number;
  /** process start, CLOCK_BOOTTIME ns (0 in records with Flag.NO_TASK) */
  startNs: number;
  /** syscall return value, -errno on failure */
  ret: number;
  comm: string;
}

export interface ExecRecord extends RecordHeader {
  kind: 'execve' | 'execveat';
  dirfd: number;
  atFlags: number;
  /** the path as passed to execve (may be relative); '' for kernel-initiated execs */
  filename: string;
  /** the executable actually running, resolved by the kernel (absolute); null if the exec failed */
  exe: string | null;
  argv: string[];
}

export type ForkVia = 'kernel' | 'clone' | 'clone3' | 'fork' | 'vfork';

/** A new process (threads are not reported). Header = parent; ret < 0 = failed clone/fork. */
export interface ForkRecord extends RecordHeader {
  kind: 'fork';
  childPid: number;
  childTgid: number;
  cloneFlags: number;
  /** child's start_boottime, 0 if unknown (then take it from the child's first record) */
  childStartNs: number;
  via: ForkVia;
}

export interface ExitRecord extends RecordHeader {
  kind: 'exit';
  /** raw wait(2) status */
  status: number;
  /** exit(2) code when not killed by a signal */
  exitCode: number;
  /** terminating signal, 0 when the process exited normally */
  signal: number;
  coreDumped: boolean;
}

export type FileKind = 'open' | 'openat' | 'openat2' | 'unlink' | 'unlinkat' | 'rename' | 'renameat' | 'renameat2' | 'chmod' | 'fchmodat' | 'fchmodat2';

export interface FileRecord extends RecordHeader {
  kind: FileKind;
  /** -100 (AT_FDCWD) when relative to the cwd or the syscall has no dirfd */
  dirfd: number;
  /** rename*: new dirfd */
  dirfd2: number;
  /** open flags (O_*), unlinkat flags, renameat2 flags, fchmodat2 flags */
  flags: number;
  mode: number;
  /** openat2 resolve flags */
  resolve: number;
  path: string;
  /** rename*: the new path */
  path2: string | null;
}

export type IoReason = 'close' | 'exit' | 'interval' | 'reuse';

/**
 * read/write aggregate for one (tgid, fd). kind 'close' is the close(2) itself (counters
 * may be zero); kind 'io' is a flush while the fd stays open (interval), at process exit,
 * or when the fd number was reassigned without close(2) (reuse: dup2 over it, close-on-exec).
 * With Flag.NO_TASK (interval flushes) only `tgid` of the header is meaningful.
 */
export interface IoRecord extends RecordHeader {
  kind: 'close' | 'io';
  fd: number;
  reason: IoReason;
  /** read, pread64, readv, preadv(2), recvfrom, recvmsg; the source fd of copy_file_range/splice/sendfile */
  rdCalls: number;
  rdBytes: number;
  /** write, pwrite64, writev, pwritev(2), sendto, sendmsg; the destination fd of copy_file_range/splice/sendfile */
  wrCalls: number;
  wrBytes: number;
  rdFirstNs: number;
  rdLastNs: number;
  wrFirstNs: number;
  wrLastNs: number;
  /** calls that failed (EAGAIN included); they count in neither calls nor bytes */
  errors: number;
}

/**
 * Repeated read-only opens of one file version by one process, after the first (which came as
 * an ordinary open record): `count` opens between `firstNs` and `lastNs`, and the read/write
 * calls made on those fds, summed. With Flag.NO_TASK (emitted by a flush) only `tgid` of the
 * header is meaningful. `dev`/`ino` identify the file; `path` is as passed to the open the
 * entry started with.
 */
export interface FoldRecord extends RecordHeader {
  kind: 'fold';
  dev: number;
  ino: number;
  openFlags: number;
  count: number;
  firstNs: number;
  lastNs: number;
  path: string;
  rdCalls: number;
  rdBytes: number;
  wrCalls: number;
  wrBytes: number;
  rdFirstNs: number;
  rdLastNs: number;
  wrFirstNs: number;
  wrLastNs: number;
  errors: number;
}

export type DupVia = 'dup' | 'dup2' | 'dup3' | 'fcntl';

/** fd duplication; the new fd is `ret` */
export interface DupRecord extends RecordHeader {
  kind: 'dup';
  oldfd: number;
  /** requested fd (dup2/dup3), minimum (fcntl F_DUPFD), -1 for dup */
  newfd: number;
  /** O_CLOEXEC when the new fd is close-on-exec */
  flags: number;
  via: DupVia;
}

export type SetidKind = 'setuid' | 'setgid' | 'setreuid' | 'setregid' | 'setresuid' | 'setresgid';

export interface SetidRecord extends RecordHeader {
  kind: SetidKind;
  /** arguments as passed; 4294967295 (-1) means "unchanged" */
  ids: number[];
}

export type NetKind = 'socket' | 'connect' | 'bind' | 'listen' | 'accept' | 'accept4' | 'sendto' | 'recvfrom';

/**
 * Socket syscalls. connect: remote = requested peer, local from the socket after the call.
 * bind: local = bound address. accept: fd = listening socket, ret = new fd, both ends from
 * the new socket. sendto/recvfrom: emitted only when the peer on this fd changes (the bytes
 * are in the fd's IoRecord). socket: family/type/protocol as requested, `arg` = raw type.
 */
export interface NetRecord extends RecordHeader {
  kind: NetKind;
  fd: number;
  /** AF_INET = 2, AF_INET6 = 10, AF_UNIX = 1 */
  family: number;
  /** SOCK_STREAM = 1, SOCK_DGRAM = 2, ... */
  type: number;
  /** IPPROTO_TCP = 6, IPPROTO_UDP = 17, ... */
  protocol: number;
  localAddress: string | null;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number;
  /** AF_UNIX path; abstract names start with '@' */
  unixPath: string | null;
  /** socket: raw type (with SOCK_NONBLOCK/CLOEXEC); listen: backlog; accept4: flags */
  arg: number;
}

export type ChannelVia = 'pipe' | 'socketpair' | 'unix_connect' | 'unix_accept';

/**
 * The identity of a pipe or a local socket connection (pm_chan). pipe: fds [read end, write end], one inode;
 * socketpair: both fds, their inodes and socks; unix_connect / unix_accept: fds[0] the connected (accepted) socket,
 * inodes[0] its inode, socks = [its struct sock, the peer's]. Unknown fd -1, unknown inode 0, unknown sock ''.
 * socks are kernel addresses (hex): never write them into a document (SyscallEventBuilder hashes them).
 */
export interface ChannelRecord extends RecordHeader {
  kind: 'channel';
  via: ChannelVia;
  fds: [number, number];
  inodes: [number, number];
  socks: [string, string];
}

export type PmRecord = ExecRecord | ForkRecord | ExitRecord | FileRecord | IoRecord | FoldRecord | DupRecord | SetidRecord | NetRecord | ChannelRecord;
export type RecordKind = PmRecord['kind'];

/* ---------------------------------------------------------------- layout */

/** byte offsets (bpf/provmon.h); exported for the layout test */
export const Layout = {
  hdr: { kind: 0, flags: 2, size: 4, ts_ns: 8, pid: 16, tgid: 20, ppid: 24, uid: 28, gid: 32, euid: 36, egid: 40, cgroup_id: 48, start_ns: 56, ret: 64, comm: 72, SIZE: 88 },
  exec: { dirfd: 88, at_flags: 92, argc: 96, args_len: 98, filename_len: 100, exe_off: 102, filename: 104, exe: 616, args: 1128, SIZE: 5224 },
  fork: { child_pid: 88, child_tgid: 92, clone_flags: 96, child_start_ns: 104, via: 112, SIZE: 120 },
  exit: { exit_code: 88, SIZE: 96 },
  file: { dirfd: 88, dirfd2: 92, flags: 96, mode: 100, resolve: 104, path_len: 112, path2_len: 114, path: 120, path2: 632, SIZE: 1144 },
  io: { fd: 88, reason: 92, io: 96, SIZE: 168 },
  io_counts: { rd_calls: 0, rd_bytes: 8, wr_calls: 16, wr_bytes: 24, rd_first_ns: 32, rd_last_ns: 40, wr_first_ns: 48, wr_last_ns: 56, errors: 64 },
  dup: { oldfd: 88, newfd: 92, flags: 96, via: 100, SIZE: 104 },
  setid: { id: 88, SIZE: 104 },
  net: { fd: 88, family: 92, type: 94, protocol: 96, lport: 98, rport: 100, unix_len: 102, arg: 104, laddr: 112, raddr: 128, unix_path: 144, SIZE: 256 },
  chan: { fd: 88, ino: 96, sk: 112, via: 128, SIZE: 136 },
  fold: { dev: 88, open_flags: 92, ino: 96, count: 104, first_ns: 112, last_ns: 120, io: 128, path_len: 200, path: 208, SIZE: 720 },
  stats: {
    rb_attempts: 0, rb_drops: 8, stash_full: 16, agg_full: 24, proc_full: 32, io_calls: 40,
    rb_drops_crit: 48, rb_drops_net: 56, rb_drops_high: 64, rb_drops_low: 72, opens_folded: 80, fold_full: 88, SIZE: 96,
  },
  proc_state: { mute: 0, high_fds: 4, folds: 8, SIZE: 12 },
  cfg: { flush_tgid: 0, fold: 4, SIZE: 8 },
} as const;

const KIND_NAMES: (RecordKind | undefined)[] = [];
const set = (k: number, n: RecordKind) => (KIND_NAMES[k] = n);
set(Kind.EXECVE, 'execve'); set(Kind.EXECVEAT, 'execveat'); set(Kind.FORK, 'fork'); set(Kind.EXIT, 'exit');
set(Kind.OPEN, 'open'); set(Kind.OPENAT, 'openat'); set(Kind.OPENAT2, 'openat2'); set(Kind.CLOSE, 'close');
set(Kind.DUP, 'dup'); set(Kind.IO, 'io'); set(Kind.FOLD, 'fold'); set(Kind.UNLINK, 'unlink'); set(Kind.UNLINKAT, 'unlinkat');
set(Kind.RENAME, 'rename'); set(Kind.RENAMEAT, 'renameat'); set(Kind.RENAMEAT2, 'renameat2'); set(Kind.CHMOD, 'chmod');
set(Kind.FCHMODAT, 'fchmodat'); set(Kind.FCHMODAT2, 'fchmodat2'); set(Kind.SETUID, 'setuid'); set(Kind.SETGID, 'setgid');
set(Kind.SETREUID, 'setreuid'); set(Kind.SETREGID, 'setregid'); set(Kind.SETRESUID, 'setresuid'); set(Kind.SETRESGID, 'setresgid');
set(Kind.SOCKET, 'socket'); set(Kind.CONNECT, 'connect'); set(Kind.BIND, 'bind'); set(Kind.LISTEN, 'listen');
set(Kind.ACCEPT, 'accept'); set(Kind.ACCEPT4, 'accept4'); set(Kind.SENDTO, 'sendto'); set(Kind.RECVFROM, 'recvfrom');
set(Kind.CHANNEL, 'channel');

export function kindName(kind: number): RecordKind | undefined {
  return KIND_NAMES[kind];
}

const FORK_VIA: ForkVia[] = ['kernel', 'clone', 'clone3', 'fork', 'vfork'];
const DUP_VIA: DupVia[] = ['dup', 'dup', 'dup2', 'dup3', 'fcntl'];
const IO_REASON: IoReason[] = ['close', 'close', 'exit', 'interval', 'reuse'];
const CHANNEL_VIA: (ChannelVia | undefined)[] = [undefined, 'pipe', 'socketpair', 'unix_connect', 'unix_accept'];

/* --------------------------------------------------------------- helpers */

type Utf8Sliceable = Uint8Array & { utf8Slice?: (start: number, end: number) => string };

/**
 * bytes [start, end) as a name: UTF-8 as is, or, when the bytes are not valid UTF-8 (or hold `\x`), the reversible
 * escape of kibana-plugin/common/escaped-names.ts, so distinct byte strings never collide. Short strings (comm) go
 * through a JS loop; longer ones through Buffer#utf8Slice when u8 is a Buffer (the mmap consumer hands one over):
 * measured ~2x faster than TextDecoder for 30-byte paths. The escape check is two native scans of the result.
 */
function str(u8: Utf8Sliceable, start: number, end: number): string {
  let s: string;
  if (end - start >= 16 && u8.utf8Slice !== undefined) s = u8.utf8Slice(start, end);
  else {
    s = '';
    for (let i = start; i < end; i++) {
      const c = u8[i]!;
      if (c >= 0x80) return nameFromBytes(u8, start, end);
      s += String.fromCharCode(c);
    }
  }
  return s.includes('\\x') || s.includes('\uFFFD') ? nameFromBytes(u8, start, end, s) : s;
}

/** The name decoder, for its benchmark (names.bench.ts). */
export { str as decodeName };

/** NUL-terminated string within [start, start + max) */
function cstrAt(u8: Uint8Array, start: number, max: number): string {
  const limit = start + max;
  let end = start;
  while (end < limit && u8[end] !== 0) end++;
  return str(u8, start, end);
}

function u64(dv: DataView, o: number): number {
  return dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296;
}

/** a u64 too wide for a JS number (kernel addresses), as hex; '' for 0 */
function hex64(dv: DataView, o: number): string {
  const lo = dv.getUint32(o, true);
  const hi = dv.getUint32(o + 4, true);
  if (hi === 0 && lo === 0) return '';
  return hi.toString(16) + lo.toString(16).padStart(8, '0');
}

function s64(dv: DataView, o: number): number {
  return dv.getUint32(o, true) + dv.getInt32(o + 4, true) * 4294967296;
}

export function formatIPv4(u8: Uint8Array, o: number): string {
  return `${u8[o]}.${u8[o + 1]}.${u8[o + 2]}.${u8[o + 3]}`;
}

/** RFC 5952 text form; v4-mapped addresses as ::ffff:a.b.c.d */
export function formatIPv6(u8: Uint8Array, o: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((u8[o + 2 * i]! << 8) | u8[o + 2 * i + 1]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(u8, o + 12)}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

function addr(family: number, u8: Uint8Array, o: number): string | null {
  if (family === 2) return formatIPv4(u8, o);
  if (family === 10) return formatIPv6(u8, o);
  return null;
}

/* --------------------------------------------------------------- decoder */

/**
 * Decode the record at u8[off .. off+len) (dv and u8 view the same memory). Returns
 * undefined for a record this build does not know (newer kernel object) — callers count it.
 */
// Every offset below comes from Layout, the table records.kernel.test.ts checks against the object's BTF.
const L = Layout;
const H = Layout.hdr;
const E = Layout.exec;
const F = Layout.file;
const N = Layout.net;
const C = Layout.io_counts;

export function decodeRecord(dv: DataView, u8: Uint8Array, off: number, len: number): PmRecord | undefined {
  if (len < H.SIZE) return undefined;
  const k = dv.getUint16(off + H.kind, true);
  const kind = KIND_NAMES[k];
  if (kind === undefined) return undefined;
  // header: field order kept identical in every object so the engine shares one shape per kind
  const recordFlags = dv.getUint16(off + H.flags, true);
  const tsNs = u64(dv, off + H.ts_ns);
  const pid = dv.getUint32(off + H.pid, true);
  const tgid = dv.getUint32(off + H.tgid, true);
  const ppid = dv.getUint32(off + H.ppid, true);
  const uid = dv.getUint32(off + H.uid, true);
  const gid = dv.getUint32(off + H.gid, true);
  const euid = dv.getUint32(off + H.euid, true);
  const egid = dv.getUint32(off + H.egid, true);
  const cgroupId = u64(dv, off + H.cgroup_id);
  const startNs = u64(dv, off + H.start_ns);
  const ret = s64(dv, off + H.ret);
  const comm = cstrAt(u8, off + H.comm, H.SIZE - H.comm);

  switch (k) {
    case Kind.EXECVE:
    case Kind.EXECVEAT: {
      const argc = dv.getUint16(off + E.argc, true);
      const argsLen = Math.min(dv.getUint16(off + E.args_len, true), len - E.args);
      const filenameLen = Math.min(dv.getUint16(off + E.filename_len, true), Bounds.PATH_MAX - 1);
      const exeOff = dv.getUint16(off + E.exe_off, true);
      const argv: string[] = [];
      let p = off + E.args;
      const end = p + Math.max(0, argsLen);
      for (let i = 0; i < argc && p < end; i++) {
        let q = p;
        while (q < end && u8[q] !== 0) q++;
        argv.push(str(u8, p, q));
        p = q + 1;
      }
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        dirfd: dv.getInt32(off + E.dirfd, true),
        atFlags: dv.getUint32(off + E.at_flags, true),
        filename: str(u8, off + E.filename, off + E.filename + filenameLen),
        exe: exeOff < Bounds.EXE_MAX ? str(u8, off + E.exe + exeOff, off + E.exe + Bounds.EXE_MAX) : null,
        argv,
      } as ExecRecord;
    }
    case Kind.FORK:
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        childPid: dv.getUint32(off + L.fork.child_pid, true),
        childTgid: dv.getUint32(off + L.fork.child_tgid, true),
        cloneFlags: u64(dv, off + L.fork.clone_flags),
        childStartNs: u64(dv, off + L.fork.child_start_ns),
        via: FORK_VIA[dv.getUint32(off + L.fork.via, true)] ?? 'kernel',
      } as ForkRecord;
    case Kind.EXIT: {
      const status = dv.getInt32(off + L.exit.exit_code, true);
      const signal = status & 0x7f;
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        status,
        exitCode: signal === 0 ? (status >> 8) & 0xff : 0,
        signal,
        coreDumped: (status & 0x80) !== 0,
      } as ExitRecord;
    }
    case Kind.CLOSE:
    case Kind.IO: {
      const c = off + L.io.io;
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        fd: dv.getInt32(off + L.io.fd, true),
        reason: IO_REASON[dv.getUint32(off + L.io.reason, true)] ?? 'interval',
        rdCalls: u64(dv, c + C.rd_calls),
        rdBytes: u64(dv, c + C.rd_bytes),
        wrCalls: u64(dv, c + C.wr_calls),
        wrBytes: u64(dv, c + C.wr_bytes),
        rdFirstNs: u64(dv, c + C.rd_first_ns),
        rdLastNs: u64(dv, c + C.rd_last_ns),
        wrFirstNs: u64(dv, c + C.wr_first_ns),
        wrLastNs: u64(dv, c + C.wr_last_ns),
        errors: dv.getUint32(c + C.errors, true),
      } as IoRecord;
    }
    case Kind.FOLD: {
      const Fo = Layout.fold;
      const c = off + Fo.io;
      const pathLen = Math.min(dv.getUint16(off + Fo.path_len, true), Bounds.PATH_MAX - 1);
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        dev: dv.getUint32(off + Fo.dev, true),
        openFlags: dv.getUint32(off + Fo.open_flags, true),
        ino: u64(dv, off + Fo.ino),
        count: u64(dv, off + Fo.count),
        firstNs: u64(dv, off + Fo.first_ns),
        lastNs: u64(dv, off + Fo.last_ns),
        path: str(u8, off + Fo.path, off + Fo.path + pathLen),
        rdCalls: u64(dv, c + C.rd_calls),
        rdBytes: u64(dv, c + C.rd_bytes),
        wrCalls: u64(dv, c + C.wr_calls),
        wrBytes: u64(dv, c + C.wr_bytes),
        rdFirstNs: u64(dv, c + C.rd_first_ns),
        rdLastNs: u64(dv, c + C.rd_last_ns),
        wrFirstNs: u64(dv, c + C.wr_first_ns),
        wrLastNs: u64(dv, c + C.wr_last_ns),
        errors: dv.getUint32(c + C.errors, true),
      } as FoldRecord;
    }
    case Kind.DUP:
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        oldfd: dv.getInt32(off + L.dup.oldfd, true),
        newfd: dv.getInt32(off + L.dup.newfd, true),
        flags: dv.getUint32(off + L.dup.flags, true),
        via: DUP_VIA[dv.getUint32(off + L.dup.via, true)] ?? 'dup',
      } as DupRecord;
    case Kind.SETUID:
    case Kind.SETGID:
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        ids: [dv.getUint32(off + L.setid.id, true)],
      } as SetidRecord;
    case Kind.SETREUID:
    case Kind.SETREGID:
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        ids: [dv.getUint32(off + L.setid.id, true), dv.getUint32(off + L.setid.id + 4, true)],
      } as SetidRecord;
    case Kind.SETRESUID:
    case Kind.SETRESGID:
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        ids: [dv.getUint32(off + L.setid.id, true), dv.getUint32(off + L.setid.id + 4, true), dv.getUint32(off + L.setid.id + 8, true)],
      } as SetidRecord;
    case Kind.SOCKET:
    case Kind.CONNECT:
    case Kind.BIND:
    case Kind.LISTEN:
    case Kind.ACCEPT:
    case Kind.ACCEPT4:
    case Kind.SENDTO:
    case Kind.RECVFROM: {
      const family = dv.getUint16(off + N.family, true);
      const unixLen = Math.min(dv.getUint16(off + N.unix_len, true), Bounds.UNIX_MAX);
      let unixPath: string | null = null;
      if (family === 1 && unixLen > 0) {
        const at = off + N.unix_path;
        unixPath = u8[at] === 0 ? '@' + str(u8, at + 1, at + unixLen).replace(/\0+$/, '') : cstrAt(u8, at, unixLen);
      }
      const isSocket = k === Kind.SOCKET;
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        fd: dv.getInt32(off + N.fd, true),
        family,
        type: dv.getUint16(off + N.type, true),
        protocol: dv.getUint16(off + N.protocol, true),
        localAddress: isSocket ? null : addr(family, u8, off + N.laddr),
        localPort: dv.getUint16(off + N.lport, true),
        remoteAddress: isSocket ? null : addr(family, u8, off + N.raddr),
        remotePort: dv.getUint16(off + N.rport, true),
        unixPath,
        arg: dv.getUint32(off + N.arg, true),
      } as NetRecord;
    }
    case Kind.CHANNEL: {
      const via = CHANNEL_VIA[dv.getUint32(off + L.chan.via, true)];
      if (via === undefined || len < L.chan.SIZE) return undefined;
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        via,
        fds: [dv.getInt32(off + L.chan.fd, true), dv.getInt32(off + L.chan.fd + 4, true)],
        inodes: [u64(dv, off + L.chan.ino), u64(dv, off + L.chan.ino + 8)],
        socks: [hex64(dv, off + L.chan.sk), hex64(dv, off + L.chan.sk + 8)],
      } as ChannelRecord;
    }
    default: {
      // file events
      const pathLen = Math.min(dv.getUint16(off + F.path_len, true), Bounds.PATH_MAX - 1);
      const isRename = k === Kind.RENAME || k === Kind.RENAMEAT || k === Kind.RENAMEAT2;
      const path2Len = isRename ? Math.min(dv.getUint16(off + F.path2_len, true), Bounds.PATH_MAX - 1) : 0;
      return {
        kind, recordFlags, tsNs, pid, tgid, ppid, uid, gid, euid, egid, cgroupId, startNs, ret, comm,
        dirfd: dv.getInt32(off + F.dirfd, true),
        dirfd2: dv.getInt32(off + F.dirfd2, true),
        flags: dv.getUint32(off + F.flags, true),
        mode: dv.getUint32(off + F.mode, true),
        resolve: u64(dv, off + F.resolve),
        path: str(u8, off + F.path, off + F.path + pathLen),
        path2: isRename ? str(u8, off + F.path2, off + F.path2 + path2Len) : null,
      } as FileRecord;
    }
  }
}

/* ----------------------------------------------------------------- errno */

const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 8: 'ENOEXEC', 9: 'EBADF',
  10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 15: 'ENOTBLK', 16: 'EBUSY', 17: 'EEXIST',
  18: 'EXDEV', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY',
  26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS', 31: 'EMLINK', 32: 'EPIPE', 33: 'EDOM',
  34: 'ERANGE', 35: 'EDEADLK', 36: 'ENAMETOOLONG', 37: 'ENOLCK', 38: 'ENOSYS', 39: 'ENOTEMPTY', 40: 'ELOOP',
  42: 'ENOMSG', 43: 'EIDRM', 61: 'ENODATA', 62: 'ETIME', 71: 'EPROTO', 74: 'EBADMSG', 75: 'EOVERFLOW',
  84: 'EILSEQ', 88: 'ENOTSOCK', 89: 'EDESTADDRREQ', 90: 'EMSGSIZE', 91: 'EPROTOTYPE', 92: 'ENOPROTOOPT',
  93: 'EPROTONOSUPPORT', 94: 'ESOCKTNOSUPPORT', 95: 'EOPNOTSUPP', 96: 'EPFNOSUPPORT', 97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN', 101: 'ENETUNREACH', 102: 'ENETRESET',
  103: 'ECONNABORTED', 104: 'ECONNRESET', 105: 'ENOBUFS', 106: 'EISCONN', 107: 'ENOTCONN', 108: 'ESHUTDOWN',
  109: 'ETOOMANYREFS', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 112: 'EHOSTDOWN', 113: 'EHOSTUNREACH',
  114: 'EALREADY', 115: 'EINPROGRESS', 116: 'ESTALE', 122: 'EDQUOT', 125: 'ECANCELED', 126: 'ENOKEY',
  130: 'EOWNERDEAD', 131: 'ENOTRECOVERABLE', 132: 'ERFKILL', 133: 'EHWPOISON',
  // kernel-internal restart codes: visible at sys_exit when a signal interrupts a syscall
  512: 'ERESTARTSYS', 513: 'ERESTARTNOINTR', 514: 'ERESTARTNOHAND', 515: 'ENOIOCTLCMD', 516: 'ERESTART_RESTARTBLOCK',
};

/** 'ENOENT' for ret = -2; undefined for ret >= 0 */
export function errnoName(ret: number): string | undefined {
  if (ret >= 0) return undefined;
  return ERRNO[-ret] ?? `E${-ret}`;
}

/* -------------------------------------------------------------- openflags */

export const O = {
  WRONLY: 0o1, RDWR: 0o2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000, APPEND: 0o2000,
  NONBLOCK: 0o4000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000, CLOEXEC: 0o2000000, PATH: 0o10000000, TMPFILE: 0o20200000,
} as const;

/** 'read' | 'write' | 'read-write' access mode of open flags */
export function openAccess(flags: number): 'read' | 'write' | 'read-write' {
  const acc = flags & 3;
  return acc === 1 ? 'write' : acc === 2 ? 'read-write' : 'read';
}
