/**
 * Audit events → the sensor's ECS documents. Each SYSCALL event becomes the kernel record the eBPF side would have
 * decoded (records.ts) and goes through the sensor's own SyscallEventBuilder, so datasets, actions and fields are the
 * live sensor's by construction. What differs is said in docs/audit.md:
 * - process start times: the log never states them. A process gets the time of its fork when the log has the
 *   fork (clone/fork/vfork/clone3 rules), otherwise the time of the first record that shows its pid. Ticks are
 *   counted from the epoch (host boot time = 0), so `process.start` is a real time and `process.entity_id` is
 *   processEntityId(host.id, pid, ticks) as everywhere, stable across re-analyses of the same log.
 * - event.id is `<host>-a<time>-<serial>-<tag>` (the serial, not a nanosecond clock, keeps events of one
 *   millisecond apart) and event.sequence is the serial.
 * - nothing is read from this machine's /proc: paths are resolved with the event's own CWD record only.
 */
import type { AuditRecordFields, EcsEvent, EcsProcess } from '../../../kibana-plugin/common/ecs.ts';
import type { ExecRecord, FileKind, FileRecord, ForkRecord, NetKind, NetRecord, PmRecord, RecordHeader, SetidKind } from '../ebpf/records.ts';
import { FdTable } from '../model/fd-table.ts';
import type { HostIdentity } from '../model/host.ts';
import { ecsHost, NS_PER_TICK } from '../model/host.ts';
import { ProcessTable } from '../model/process-table.ts';
import { SyscallEventBuilder } from '../model/syscall-events.ts';
import { argValue, intValue, parseSockaddr, proctitleArgs, unquote, untrusted, type Sockaddr } from './fields.ts';
import type { AuditEvent } from './group.ts';
import type { AuditRecord } from './record.ts';
import { syscallName } from './syscalls.ts';
import { userEventDocument, type UserEventContext } from './user-events.ts';

const AT_FDCWD = -100;
/** a dirfd that is not AT_FDCWD and no open fd: the builder then leaves a relative path as it is */
const NO_DIRFD = -1;
const CLONE_THREAD = 0x10000;
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const AT_REMOVEDIR = 0x200;
/** auid/ses when never set (daemons started at boot) */
const UNSET = '4294967295';

export interface AuditConversionStats {
  /** SYSCALL events turned into documents */
  syscall_events: number;
  documents: number;
  /** events without a SYSCALL record (a PATH/EXECVE left alone by a cut log) */
  partial_events: number;
  /** syscalls that have no document in the sensor's vocabulary either (e.g. mmap, kill) */
  other_syscalls: number;
  /** syscall numbers of an architecture the tables here do not know (use log_format=ENRICHED) */
  unknown_syscalls: number;
  /** clone of a thread: not a process (the sensor does not report threads either) */
  threads: number;
  /** records that are not syscalls and became documents of dataset audit (logins, sudo, account changes…), by type */
  audit_records: Record<string, number>;
  /** events that are not syscalls and of a type with no document (USER_TTY, NETFILTER_CFG…), by type: counted */
  not_syscall: Record<string, number>;
}

export interface AuditConverterOptions {
  host: HostIdentity;
  namespace: string;
  /** bound on tracked processes (each ~300 bytes) */
  maxProcesses?: number;
}

/** Everything an audit SYSCALL event says, decoded once. */
interface Decoded {
  name: string;
  header: RecordHeader;
  exit: number | undefined;
  a: (number | undefined)[];
  exe: string | undefined;
  cwd: string | undefined;
  paths: { name: string; nametype: string }[];
  /** EXECVE's arguments, else PROCTITLE's (decoded on first call) */
  argv: () => string[] | undefined;
  sockaddr: Sockaddr | undefined;
  syscallFields: Record<string, string>;
}

export class AuditConverter {
  readonly stats: AuditConversionStats = {
    syscall_events: 0,
    documents: 0,
    partial_events: 0,
    other_syscalls: 0,
    unknown_syscalls: 0,
    threads: 0,
    audit_records: {},
    not_syscall: {},
  };
  readonly processes: ProcessTable;
  private readonly fds = new FdTable(4096);
  private readonly builder: SyscallEventBuilder;
  /** children of clone3/clone calls not yet seen: their start time and parent (bounded) */
  private readonly births = new Map<number, { atMs: number; ppid: number }>();
  private readonly idPrefix: string;
  private readonly userEvents: UserEventContext;

  constructor(private readonly o: AuditConverterOptions) {
    // Start ticks count from the epoch: with boot time 0 the table's start times are wall-clock times.
    const host: HostIdentity = { ...o.host, bootTimeMs: 0 };
    this.processes = new ProcessTable({ host, lingerMs: 60_000, maxEntries: o.maxProcesses ?? 200_000 });
    this.builder = new SyscallEventBuilder({
      host,
      processes: this.processes,
      fds: this.fds,
      toIso: (ns) => new Date(Math.round(ns / 1e6)).toISOString(),
      toEpochMs: (ns) => Math.round(ns / 1e6),
      namespace: o.namespace,
      bootId: 'audit000',
      liveProcesses: false,
    });
    this.idPrefix = o.host.id.slice(0, 8);
    this.userEvents = {
      host: ecsHost(host),
      namespace: o.namespace,
      idPrefix: this.idPrefix,
      process: (pid, atMs, exe, comm) => this.processRef(pid, atMs, exe, comm),
    };
  }

  /** The documents of one event, in order. */
  convert(event: AuditEvent, emit: (doc: EcsEvent) => void): void {
    // records of their own meaning (a login, an AVC that rides along a SYSCALL): one audit document each
    let userRecords = 0;
    const syscall = event.records.find((r) => r.type === 'SYSCALL');
    for (const [index, record] of event.records.entries()) {
      const doc = userEventDocument(record, index, this.userEvents, syscall);
      if (!doc) continue;
      userRecords += 1;
      this.stats.audit_records[record.type] = (this.stats.audit_records[record.type] ?? 0) + 1;
      this.stats.documents += 1;
      emit(doc);
    }
    if (!syscall) {
      if (userRecords > 0) return;
      const first = event.records[0]?.type ?? 'EMPTY';
      if (/^(PATH|CWD|EXECVE|SOCKADDR|PROCTITLE)$/.test(first)) this.stats.partial_events += 1;
      else this.stats.not_syscall[first] = (this.stats.not_syscall[first] ?? 0) + 1;
      return;
    }
    const name = syscallName(syscall.fields.arch, syscall.fields.syscall, syscall.enriched?.SYSCALL);
    if (name === undefined) {
      this.stats.unknown_syscalls += 1;
      return;
    }
    const d = this.decode(event, syscall, name);
    const records = this.records(d);
    if (records === null) {
      this.stats.other_syscalls += 1;
      return;
    }
    this.stats.syscall_events += 1;
    const audit: AuditRecordFields = { serial: event.serial, syscall: name };
    const key = unquote(d.syscallFields.key);
    if (key !== undefined && key !== '(null)') audit.key = key;
    const auid = d.syscallFields.auid;
    if (auid !== undefined && auid !== UNSET) audit.auid = auid;
    const ses = d.syscallFields.ses;
    if (ses !== undefined && ses !== UNSET) audit.session = ses;
    for (const rec of records) {
      // The child often execs before the parent's clone returns, so its exec is logged first: the fork must then
      // keep the child's identity and its new image instead of resetting it to a copy of the parent.
      const child = rec.kind === 'fork' && rec.childTgid > 0 ? this.processes.get(rec.childTgid) : undefined;
      const earlier = child && child.ppid === rec.tgid ? { ...child } : undefined;
      if (earlier && rec.kind === 'fork') rec.childStartNs = ticksToNs(earlier.startTicks);
      this.builder.handle(rec, (doc) => {
        // the serial keeps two events of one millisecond apart (the builder's id assumes a nanosecond clock)
        doc.event.id = `${this.idPrefix}-a${event.timeMs.toString(36)}-${event.serial.toString(36)}-${doc.event.id.slice(doc.event.id.lastIndexOf('-') + 1)}`;
        doc.event.sequence = event.serial;
        doc.provmon = { ...doc.provmon, audit };
        this.stats.documents += 1;
        emit(doc);
      });
      if (earlier) {
        const now = this.processes.get(earlier.pid);
        if (now) Object.assign(now, { name: earlier.name, executable: earlier.executable, args: earlier.args, uid: earlier.uid, gid: earlier.gid });
      }
    }
  }

  private decode(event: AuditEvent, syscall: AuditRecord, name: string): Decoded {
    const f = syscall.fields;
    const pid = intValue(f.pid) ?? 0;
    const ppid = intValue(f.ppid) ?? 0;
    const exit = intValue(f.exit);
    const comm = untrusted(f.comm) ?? '';
    const exe = untrusted(f.exe);
    let cwd: string | undefined;
    const paths: { item: number; name: string; nametype: string }[] = [];
    // arguments are decoded only when a document needs them (an exec, a process seen for the first time)
    let execve: Record<string, string>[] | undefined;
    let proctitle: string | undefined;
    let sockaddr: Sockaddr | undefined;
    for (const r of event.records) {
      switch (r.type) {
        case 'CWD':
          cwd = untrusted(r.fields.cwd);
          break;
        case 'PATH': {
          const pathName = untrusted(r.fields.name);
          if (pathName !== undefined) paths.push({ item: intValue(r.fields.item) ?? paths.length, name: pathName, nametype: r.fields.nametype ?? r.fields.objtype ?? 'NORMAL' });
          break;
        }
        case 'EXECVE':
          (execve ??= []).push(r.fields);
          break;
        case 'PROCTITLE':
          proctitle = r.fields.proctitle;
          break;
        case 'SOCKADDR':
          sockaddr = parseSockaddr(unquote(r.fields.saddr));
          break;
      }
    }
    paths.sort((x, y) => x.item - y.item);
    const proctitleArgv = once(() => proctitleArgs(proctitle));
    const argv = once(() => (execve ? execve.reduce<string[] | undefined>((args, fields) => execveArgs(fields, args), undefined) : proctitleArgv()));
    const startTicks = this.startOf(pid, ppid, event.timeMs, comm, exe, proctitleArgv, f);
    const header: RecordHeader = {
      recordFlags: 0,
      tsNs: event.timeMs * 1e6,
      pid,
      tgid: pid,
      ppid,
      uid: intValue(f.uid) ?? -1,
      gid: intValue(f.gid) ?? -1,
      euid: intValue(f.euid) ?? intValue(f.uid) ?? -1,
      egid: intValue(f.egid) ?? intValue(f.gid) ?? -1,
      cgroupId: 0,
      startNs: ticksToNs(startTicks),
      ret: exit ?? (f.success === 'no' ? -1 : 0),
      comm,
    };
    return {
      name,
      header,
      exit,
      a: [argValue(f.a0), argValue(f.a1), argValue(f.a2), argValue(f.a3)],
      exe,
      cwd,
      paths,
      argv,
      sockaddr,
      syscallFields: f,
    };
  }

  /**
   * The start time of pid (ticks): known from the table, else its fork (births), else now (the documented rule). An
   * unknown process is entered into the table here so every document of it carries the same entity id; its
   * parent, when unknown as well, gets a placeholder that later records of the parent complete.
   */
  private startOf(pid: number, ppid: number, atMs: number, comm: string, exe: string | undefined, args: (() => string[] | undefined) | undefined, f: Record<string, string>): number {
    const known = this.processes.get(pid);
    if (known) {
      if (!known.name && comm) known.name = comm;
      if (!known.executable && exe) known.executable = exe;
      if (known.ppid === 0 && ppid) {
        known.ppid = ppid;
        known.parentEntityId = this.ensureParent(ppid, atMs);
      }
      return known.startTicks;
    }
    const birth = this.births.get(pid);
    if (birth) this.births.delete(pid);
    const startMs = birth?.atMs ?? atMs;
    const parentId = this.ensureParent(birth?.ppid ?? ppid, startMs);
    const info = this.processes.exec(
      pid,
      {
        executable: exe ?? '',
        args: args?.() ?? [],
        name: comm,
        startTicks: Math.floor(startMs / 10),
        ppid: birth?.ppid ?? ppid,
        uid: intValue(f.uid) ?? -1,
        gid: intValue(f.gid) ?? -1,
      },
      atMs,
    );
    if (!info.executable) info.executable = undefined;
    info.parentEntityId = parentId;
    return info.startTicks;
  }

  /** process.* of a user-space record's writer (sshd, sudo, systemd): the same identity its syscall documents get. */
  private processRef(pid: number, atMs: number, exe: string | undefined, comm: string | undefined): EcsProcess {
    this.startOf(pid, 0, atMs, comm ?? '', exe, undefined, {});
    const info = this.processes.get(pid)!;
    const name = info.name || comm || (exe ? exe.slice(exe.lastIndexOf('/') + 1) : undefined);
    const executable = info.executable ?? exe;
    return {
      pid,
      entity_id: info.entityId,
      ...(name ? { name } : {}),
      ...(executable ? { executable } : {}),
      ...(info.args.length ? { args: info.args, args_count: info.args.length, command_line: info.args.join(' ') } : {}),
      start: info.start,
      ...(info.parentEntityId ? { parent: { pid: info.ppid, entity_id: info.parentEntityId } } : {}),
    };
  }

  private ensureParent(ppid: number, atMs: number): string | undefined {
    if (ppid <= 0) return undefined;
    const parent = this.processes.get(ppid);
    if (parent) return parent.entityId;
    const placeholder = this.processes.exec(ppid, { executable: '', args: [], name: '', startTicks: Math.floor(atMs / 10), ppid: 0, uid: -1, gid: -1 }, atMs);
    placeholder.executable = undefined;
    return placeholder.entityId;
  }

  /** The kernel records the eBPF side would have produced for this syscall; null when it would produce none. */
  private records(d: Decoded): PmRecord[] | null {
    const h = d.header;
    const [a1] = [d.a[1]];
    // fds and dirfds are C ints: audit prints the register, so AT_FDCWD may read ffffff9c
    const a0 = d.a[0] === undefined ? undefined : d.a[0] | 0;
    const a2 = d.a[2];
    const fd2 = a2 === undefined ? NO_DIRFD : a2 | 0;
    const ok = d.syscallFields.success !== 'no';
    switch (d.name) {
      case 'execve':
      case 'execveat': {
        const argv = d.argv();
        const filename = this.resolve(d, d.paths[0]?.name ?? argv?.[0] ?? '', d.name === 'execve' ? AT_FDCWD : (a0 ?? NO_DIRFD));
        const rec: ExecRecord = { ...h, kind: d.name, dirfd: filename.startsWith('/') ? AT_FDCWD : NO_DIRFD, atFlags: 0, filename, exe: ok ? (d.exe ?? null) : null, argv: argv ?? [] };
        return [rec];
      }
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork': {
        const child = d.exit ?? 0;
        if (child <= 0) return ok ? [] : [this.fork(h, 0, 0, d.name)];
        if (d.name === 'clone' && a0 !== undefined && (a0 & CLONE_THREAD) !== 0) {
          this.stats.threads += 1;
          return [];
        }
        if (d.name === 'clone3') {
          // clone3's flags sit in a struct the log does not show: a thread cannot be told from a process, so the
          // child becomes a process only if a record of its own shows up (with this start time and parent)
          this.remember(child, Math.round(h.tsNs / 1e6), h.tgid);
          return [];
        }
        return [this.fork(h, child, Math.round(h.tsNs / 1e6), d.name)];
      }
      case 'exit_group':
        return [{ ...h, kind: 'exit', status: ((a0 ?? 0) & 0xff) << 8, exitCode: (a0 ?? 0) & 0xff, signal: 0, coreDumped: false }];
      case 'open':
      case 'creat':
      case 'openat':
      case 'openat2': {
        const item = lastNamed(d.paths);
        if (!item) return [];
        const flags = d.name === 'creat' ? O_CREAT | O_WRONLY | O_TRUNC : d.name === 'open' ? (a1 ?? 0) : d.name === 'openat' ? (a2 ?? 0) : 0;
        const kind: FileKind = d.name === 'creat' ? 'open' : d.name;
        return [this.file(h, kind, this.resolve(d, item.name, d.name === 'openat' || d.name === 'openat2' ? (a0 ?? NO_DIRFD) : AT_FDCWD), flags, 0)];
      }
      case 'unlink':
      case 'unlinkat':
      case 'rmdir': {
        const item = d.paths.find((p) => p.nametype === 'DELETE') ?? lastNamed(d.paths);
        if (!item) return [];
        const dirfd = d.name === 'unlinkat' ? (a0 ?? NO_DIRFD) : AT_FDCWD;
        const flags = d.name === 'rmdir' ? AT_REMOVEDIR : d.name === 'unlinkat' ? (a2 ?? 0) : 0;
        return [this.file(h, d.name === 'unlink' ? 'unlink' : 'unlinkat', this.resolve(d, item.name, dirfd), flags, 0)];
      }
      case 'rename':
      case 'renameat':
      case 'renameat2': {
        const deleted = d.paths.filter((p) => p.nametype === 'DELETE');
        const created = d.paths.find((p) => p.nametype === 'CREATE');
        const source = deleted[0];
        const target = created ?? deleted[1];
        if (!source) return [];
        const rec = this.file(h, d.name, this.resolve(d, source.name, d.name === 'rename' ? AT_FDCWD : (a0 ?? NO_DIRFD)), 0, 0);
        rec.path2 = target ? this.resolve(d, target.name, d.name === 'rename' ? AT_FDCWD : fd2) : null;
        rec.dirfd2 = rec.path2?.startsWith('/') ? AT_FDCWD : NO_DIRFD;
        return [rec];
      }
      case 'chmod':
      case 'fchmodat': {
        const item = lastNamed(d.paths);
        if (!item) return [];
        const mode = d.name === 'chmod' ? (a1 ?? 0) : (a2 ?? 0);
        return [this.file(h, d.name, this.resolve(d, item.name, d.name === 'chmod' ? AT_FDCWD : (a0 ?? NO_DIRFD)), 0, mode)];
      }
      case 'setuid':
      case 'setgid':
      case 'setreuid':
      case 'setregid':
      case 'setresuid':
      case 'setresgid': {
        const n = d.name.startsWith('setres') ? 3 : d.name.startsWith('setre') ? 2 : 1;
        const ids = d.a.slice(0, n).map((v) => (v === undefined ? 4294967295 : v >>> 0));
        return [{ ...h, kind: d.name as SetidKind, ids }];
      }
      case 'socket':
        return [this.net(h, 'socket', -1, a0 ?? 0, (a1 ?? 0) & 0xf, a2 ?? 0, undefined, undefined)];
      case 'connect':
      case 'bind':
      case 'listen':
        return [this.net(h, d.name, a0 ?? -1, familyNumber(d.sockaddr), 0, 0, d.name === 'connect' ? d.sockaddr : undefined, d.name === 'bind' ? d.sockaddr : undefined)];
      case 'accept':
      case 'accept4': {
        // the peer is in SOCKADDR; the local end is what the listening socket was bound to, when the log had it
        const listening = this.fds.get(h.tgid, a0 ?? -1);
        const bound = listening?.kind === 'socket' ? listening.local : undefined;
        const local: Sockaddr | undefined = bound && !isWildcard(bound.ip) ? { family: bound.ip.includes(':') ? 'ipv6' : 'ipv4', ip: bound.ip, port: bound.port } : undefined;
        return [this.net(h, d.name, a0 ?? -1, familyNumber(d.sockaddr), 1, 6, d.sockaddr, local)];
      }
      case 'sendto':
      case 'sendmsg': {
        // A datagram to a named peer: the sensor reports it as a send on that socket; audit gives the byte count.
        if (!d.sockaddr || (d.sockaddr.family !== 'ipv4' && d.sockaddr.family !== 'ipv6')) return [];
        const fd = a0 ?? -1;
        const peer = this.net(h, 'sendto', fd, familyNumber(d.sockaddr), 2, 17, d.sockaddr, undefined);
        if (!this.fds.get(h.tgid, fd)) this.fds.set(h.tgid, fd, { kind: 'socket', family: d.sockaddr.family, transport: 'udp', role: 'client' });
        const bytes = ok ? Math.max(0, d.exit ?? 0) : 0;
        return [
          peer,
          { ...h, kind: 'io', fd, reason: 'interval', rdCalls: 0, rdBytes: 0, wrCalls: ok ? 1 : 0, wrBytes: bytes, rdFirstNs: 0, rdLastNs: 0, wrFirstNs: h.tsNs, wrLastNs: h.tsNs, errors: ok ? 0 : 1 },
        ];
      }
      default:
        return null;
    }
  }

  private remember(child: number, atMs: number, ppid: number): void {
    this.births.set(child, { atMs, ppid });
    if (this.births.size > 65_536) this.births.delete(this.births.keys().next().value!);
  }

  private fork(h: RecordHeader, child: number, childStartMs: number, via: string): ForkRecord {
    return { ...h, kind: 'fork', childPid: child, childTgid: child, cloneFlags: 0, childStartNs: childStartMs ? ticksToNs(Math.floor(childStartMs / 10)) : 0, via: via as ForkRecord['via'] };
  }

  private file(h: RecordHeader, kind: FileKind, path: string, flags: number, mode: number): FileRecord {
    return { ...h, kind, dirfd: path.startsWith('/') ? AT_FDCWD : NO_DIRFD, dirfd2: NO_DIRFD, flags, mode, resolve: 0, path, path2: null };
  }

  private net(h: RecordHeader, kind: NetKind, fd: number, family: number, type: number, protocol: number, remote: Sockaddr | undefined, local: Sockaddr | undefined): NetRecord {
    const ipRemote = remote && (remote.family === 'ipv4' || remote.family === 'ipv6') ? remote : undefined;
    const ipLocal = local && (local.family === 'ipv4' || local.family === 'ipv6') ? local : undefined;
    const unix = remote?.family === 'unix' ? remote.path : local?.family === 'unix' ? local.path : null;
    return {
      ...h,
      kind,
      fd,
      family,
      type,
      protocol,
      localAddress: ipLocal?.ip ?? null,
      localPort: ipLocal?.port ?? 0,
      remoteAddress: ipRemote?.ip ?? null,
      remotePort: ipRemote?.port ?? 0,
      unixPath: unix,
      arg: 0,
    };
  }

  /** A PATH name made absolute with the event's CWD when it is relative to the working directory. */
  private resolve(d: Decoded, name: string, dirfd: number): string {
    if (name.startsWith('/') || name === '') return name;
    if (dirfd === AT_FDCWD && d.cwd) return `${d.cwd.replace(/\/$/, '')}/${name}`.replace(/\/\.\//g, '/');
    return name;
  }

  /** The converter's own memory, for progress lines. */
  size(): { processes: number; births: number } {
    return { processes: this.processes.size, births: this.births.size };
  }

  /** Bookkeeping the builder keeps. */
  builderStats(): Record<string, number> {
    return { ...this.builder.stats, process_evicted: this.processes.evicted, fd_evicted: this.fds.evicted };
  }
}

/**
 * Ticks as the nanosecond value the builder turns back into ticks (ticksFromBootNs floors): half a tick in, so
 * float rounding of epoch-sized nanoseconds can never land in the tick before.
 */
function ticksToNs(ticks: number): number {
  return (ticks + 0.5) * NS_PER_TICK;
}

/** EXECVE: argc=N a0="ls" a1=2D6C …; a long argument arrives split as aN_len=… aN[0]=… aN[1]=… (maybe across records). */
function execveArgs(f: Record<string, string>, previous: string[] | undefined): string[] {
  const args = previous ?? [];
  const argc = intValue(f.argc);
  for (const key of Object.keys(f)) {
    const m = /^a(\d+)(?:\[(\d+)\])?$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    if (index > 100_000 || (argc !== undefined && index >= argc)) continue;
    const part = untrusted(f[key]) ?? '';
    args[index] = m[2] === undefined ? part : (args[index] ?? '') + part;
  }
  for (let i = 0; i < args.length; i++) if (args[i] === undefined) args[i] = '';
  return args;
}

/** fn's result, computed on the first call */
function once<T>(fn: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = fn();
      done = true;
    }
    return value;
  };
}

function lastNamed(paths: { name: string; nametype: string }[]): { name: string; nametype: string } | undefined {
  for (let i = paths.length - 1; i >= 0; i--) if (paths[i]!.nametype !== 'PARENT') return paths[i];
  return paths[paths.length - 1];
}

function familyNumber(s: Sockaddr | undefined): number {
  if (!s) return 0;
  if (s.family === 'other') return s.number;
  return s.family === 'ipv4' ? 2 : s.family === 'ipv6' ? 10 : 1;
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
