import { createHmac, randomBytes } from 'node:crypto';
import { readlinkName } from './proc-names.ts';
import { posix } from 'node:path';
import { datasetName, type DatasetName, type EcsEvent, type EcsProcess, type EventAction } from '../../../kibana-plugin/common/ecs.ts';
import type { ChannelRecord, ExecRecord, FileRecord, FoldRecord, ForkRecord, IoRecord, NetRecord, PmRecord, RecordHeader, SetidRecord } from '../ebpf/records.ts';
import { ticksFromBootNs } from './entity-id.ts';
import { errnoName, Flag } from '../ebpf/records.ts';
import type { FdTable, FdTarget } from './fd-table.ts';
import { ecsHost, type HostIdentity } from './host.ts';
import { AccountNames } from './account-names.ts';
import type { ProcessInfo, ProcessTable } from './process-table.ts';
import { readExecContext, readProcess } from './proc-scan.ts';
import { communityIdFromText } from '../pcap/community-id.ts';
import { unmapIp } from '../../../kibana-plugin/common/graph/model.ts';

const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

/** Open flags worth a word in provmon.open.flags (the access mode is always named). */
const OPEN_FLAG_NAMES: [number, string][] = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

export function openFlagNames(flags: number): string[] {
  const acc = flags & 3;
  const names = [acc === 1 ? 'O_WRONLY' : acc === 2 ? 'O_RDWR' : 'O_RDONLY'];
  for (const [bit, name] of OPEN_FLAG_NAMES) if ((flags & bit) === bit) names.push(name);
  return names;
}

export interface SyscallEventStats {
  /** I/O aggregates on descriptors we cannot name (fds older than the sensor that are not files or pipes, eventfds...): counted, not emitted */
  unattributedIo: number;
  /** records for a process the table does not know (its fork predates a gap): emitted with what the record tells */
  unknownProcess: number;
}

export interface SyscallEventOptions {
  host: HostIdentity;
  processes: ProcessTable;
  fds: FdTable;
  /** boot-relative ns → ISO timestamp and epoch ms */
  toIso: (bootNs: number) => string;
  toEpochMs: (bootNs: number) => number;
  namespace: string;
  /** Short boot id: with kernel timestamps it makes event ids unique across reboots. */
  bootId: string;
  /** user.name / group.name lookup (default: the host's /etc/passwd and /etc/group) */
  accounts?: AccountNames;
  /**
   * Whether the records describe this host's live processes (default true), so /proc may fill what a record
   * cannot tell. False for records rebuilt from another source (`provmon analyze`): /proc would describe
   * whichever live process has the pid now.
   */
  liveProcesses?: boolean;
}

type Category = 'process' | 'file' | 'network';
type DataStream = NonNullable<EcsEvent['data_stream']>;
type FileFields = { path: string; name: string; directory: string };

/** What a process's `process` fields were built from: while none of it changes, the fields are the same object. */
interface ProcessFieldsMemo {
  fields: EcsProcess;
  info: ProcessInfo;
  parent: ProcessInfo | undefined;
  executable: string | undefined;
  args: string[];
  name: string;
  cwd: string | undefined;
  ttyNr: number | undefined;
  ppid: number;
  parentEntityId: string | undefined;
  parentExecutable: string | undefined;
  parentName: string | undefined;
  parentArgs: string[] | undefined;
}

/** Processes whose shared `process` fields are remembered, at most (a process beyond it gets fresh fields each time). */
const MAX_PROCESS_MEMOS = 65_536;
/** file fields remembered per path, at most. */
const MAX_FILE_MEMOS = 16_384;
/** user/group objects remembered per id, at most. */
const MAX_ACCOUNT_MEMOS = 1024;

/**
 * Turns decoded kernel records into ECS documents (datasets process, file, network), keeping the process and fd
 * tables current on the way. Hot path: one object literal per document, no per-record allocation beyond it.
 */
export class SyscallEventBuilder {
  readonly stats: SyscallEventStats = { unattributedIo: 0, unknownProcess: 0 };
  private readonly idPrefix: string;
  private readonly host: EcsEvent['host'];
  private readonly accounts: AccountNames;
  /** keys the unix-connection identities of this run (see channel()) */
  private readonly channelSecret = randomBytes(32);
  /**
   * Parts many documents share, made once rather than per document (allocation and formatting were most of the
   * builder's cost): `process` per process, `data_stream` per dataset, `user`/`group` per id, a file's path fields per
   * path, and the one `host`. A process memo is reused only while everything it was built from is the same (same
   * table entry, same values), so a new image, a new parent or a reused pid gets new fields. Nothing may change a
   * shared part after emit: a document that adds to one (an exit's process end, a chmod's file mode) gets a copy.
   * Not frozen: JSC's JSON.stringify takes a slow path on frozen objects (measured 3-4× slower per document).
   */
  private readonly processMemos = new Map<number, ProcessFieldsMemo>();
  private readonly files = new Map<string, FileFields>();
  private readonly dataStreams = new Map<DatasetName, DataStream>();
  private readonly users = new Map<number, { id: string; name?: string }>();
  private readonly groups = new Map<number, { id: string; name?: string }>();

  constructor(private readonly o: SyscallEventOptions) {
    this.idPrefix = `${o.host.id.slice(0, 8)}${o.bootId.slice(0, 8)}`;
    this.host = ecsHost(o.host);
    this.accounts = o.accounts ?? new AccountNames();
  }

  /** Documents for the record (zero, one or two), in order; tables are updated first so the event sees the new state. */
  handle(rec: PmRecord, emit: (doc: EcsEvent) => void): void {
    if ((rec.recordFlags & TRUNCATION_FLAGS) !== 0) {
      const plain = emit;
      emit = (doc) => plain(markTruncated(doc, rec.recordFlags));
    }
    switch (rec.kind) {
      case 'fork':
        return this.fork(rec, emit);
      case 'execve':
      case 'execveat':
        return this.exec(rec, emit);
      case 'exit': {
        const nowMs = this.o.toEpochMs(rec.tsNs);
        const info = this.o.processes.exit(rec.tgid, rec.exitCode, nowMs) ?? this.processFromHeader(rec);
        this.o.fds.exit(rec.tgid);
        // a copy: the shared fields must not change (the exit's own fields are added here)
        const proc = { ...this.processFields(info) };
        proc.end = this.o.toIso(rec.tsNs);
        proc.exit_code = rec.signal ? 128 + rec.signal : rec.exitCode;
        const doc = this.base(rec, 'process', 'end', ['end'], proc, 'x');
        doc.event.outcome = rec.signal === 0 && rec.exitCode === 0 ? 'success' : 'failure';
        if (rec.signal) doc.provmon = { exit_signal: rec.signal, core_dumped: rec.coreDumped };
        return emit(doc);
      }
      case 'dup':
        if (rec.ret >= 0) {
          const target = this.o.fds.get(rec.tgid, rec.oldfd);
          if (target) this.o.fds.set(rec.tgid, rec.ret, target);
        }
        return;
      case 'close':
      case 'io':
        return this.io(rec, emit);
      case 'fold':
        return this.fold(rec, emit);
      case 'setuid':
      case 'setgid':
      case 'setreuid':
      case 'setregid':
      case 'setresuid':
      case 'setresgid':
        return this.setid(rec, emit);
      case 'socket':
      case 'connect':
      case 'bind':
      case 'listen':
      case 'accept':
      case 'accept4':
      case 'sendto':
      case 'recvfrom':
        return this.net(rec, emit);
      case 'channel':
        return this.channel(rec);
      default:
        return this.file(rec, emit);
    }
  }

  /** A state document per process found in /proc at start-up, so old processes have executable, args and parent. */
  alreadyRunning(info: ProcessInfo, at: string, seq: number): EcsEvent {
    const doc: EcsEvent = {
      '@timestamp': at,
      event: {
        kind: 'state',
        category: ['process'],
        type: ['info'],
        action: 'already_running',
        dataset: 'provmon.process',
        module: 'provmon',
        id: `${this.idPrefix}-s${info.pid.toString(36)}-${info.startTicks.toString(36)}-${seq.toString(36)}`,
        sequence: seq,
      },
      host: this.host,
      data_stream: this.dataStream('provmon.process'),
      process: this.processFields(info),
    };
    this.addIdentity(doc, info.uid, info.gid);
    return doc;
  }

  private fork(rec: ForkRecord, emit: (doc: EcsEvent) => void): void {
    if (rec.ret < 0) {
      const doc = this.base(rec, 'process', 'fork', ['start'], this.processFields(this.process(rec)), 'f');
      return emit(this.failed(doc, rec.ret));
    }
    const nowMs = this.o.toEpochMs(rec.tsNs);
    // childStartNs is 0 when the kernel could not read it; the parent's fork time is then the best estimate.
    const child = this.o.processes.fork(rec.tgid, rec.childTgid, ticksFromBootNs(rec.childStartNs || rec.tsNs), nowMs);
    this.o.fds.fork(rec.tgid, rec.childTgid);
    const doc = this.base(rec, 'process', 'fork', ['start'], this.processFields(child), 'f');
    doc.provmon = { fork_via: rec.via };
    emit(doc);
  }

  private exec(rec: ExecRecord, emit: (doc: EcsEvent) => void): void {
    if (rec.ret < 0) {
      const doc = this.base(rec, 'process', 'exec', ['start'], this.processFields(this.process(rec)), 'e');
      const path = this.resolvePath(rec.tgid, rec.dirfd, rec.filename);
      doc.file = { path, name: posix.basename(path) };
      doc.provmon = { exec: { args: rec.argv } };
      return emit(this.failed(doc, rec.ret));
    }
    const executable = rec.exe ?? this.resolvePath(rec.tgid, rec.dirfd, rec.filename);
    const context = this.o.liveProcesses === false ? undefined : readExecContext(rec.tgid);
    const info = this.o.processes.exec(
      rec.tgid,
      { executable, args: rec.argv, name: rec.comm, startTicks: ticksFromBootNs(rec.startNs), ppid: rec.ppid, uid: rec.euid, gid: rec.egid, ...context },
      this.o.toEpochMs(rec.tsNs),
    );
    const doc = this.base(rec, 'process', 'exec', ['start'], this.processFields(info), 'e');
    // A script's exec runs its interpreter: process.executable is /usr/bin/sh, the file that was executed is the script.
    const filename = rec.filename ? this.resolvePath(rec.tgid, rec.dirfd, rec.filename) : '';
    if (filename && filename !== executable) doc.provmon = { exec: { filename } };
    emit(doc);
  }

  private file(rec: FileRecord, emit: (doc: EcsEvent) => void): void {
    const proc = this.process(rec);
    const path = this.resolvePath(rec.tgid, rec.dirfd, rec.path);
    let action: EventAction;
    let type: string[];
    switch (rec.kind) {
      case 'open':
      case 'openat':
      case 'openat2': {
        // The kernel's FMODE_CREATED: true only when this very call made the file, whatever the flags asked for.
        const created = rec.ret >= 0 && (rec.recordFlags & Flag.CREATED) !== 0;
        action = created ? 'creation' : 'open';
        type = created ? ['creation'] : ['access'];
        if (rec.ret >= 0) this.o.fds.set(rec.tgid, rec.ret, { kind: 'file', path });
        break;
      }
      case 'unlink':
      case 'unlinkat':
        action = 'deletion';
        type = ['deletion'];
        break;
      case 'rename':
      case 'renameat':
      case 'renameat2':
        action = 'rename';
        type = ['change'];
        break;
      default:
        action = 'permission_change';
        type = ['change'];
    }
    const doc = this.base(rec, 'file', action, type, this.processFields(proc), 'p');
    if (action === 'rename' && rec.path2 !== null) {
      const target = this.resolvePath(rec.tgid, rec.dirfd2, rec.path2);
      doc.file = this.fileFields(target);
      doc.provmon = { file: { source_path: path } };
    } else {
      doc.file = this.fileFields(path);
      if (action === 'open' || action === 'creation') doc.provmon = { open: { flags: openFlagNames(rec.flags) } };
      // copies: the shared fields stay as they are
      if (action === 'permission_change') doc.file = { ...doc.file, mode: (rec.mode & 0o7777).toString(8).padStart(4, '0') };
      if (action === 'deletion' && (rec.flags & AT_REMOVEDIR) !== 0) doc.file = { ...doc.file, type: 'dir' };
    }
    if (rec.ret < 0) this.failed(doc, rec.ret);
    emit(doc);
  }

  private io(rec: IoRecord, emit: (doc: EcsEvent) => void): void {
    const target = rec.kind === 'close' ? this.o.fds.close(rec.tgid, rec.fd) : this.o.fds.get(rec.tgid, rec.fd);
    if (rec.reason === 'reuse') this.o.fds.close(rec.tgid, rec.fd);
    const hasIo = rec.rdCalls > 0 || rec.wrCalls > 0;
    if (!target || target.kind === 'other') {
      if (hasIo) this.stats.unattributedIo += 1;
      return;
    }
    const proc = this.processFields(this.process(rec));
    if (rec.rdCalls > 0) emit(this.ioDoc(rec, target, proc, 'read', rec.rdCalls, rec.rdBytes, rec.rdFirstNs, rec.rdLastNs));
    if (rec.wrCalls > 0) emit(this.ioDoc(rec, target, proc, 'write', rec.wrCalls, rec.wrBytes, rec.wrFirstNs, rec.wrLastNs));
    if (rec.kind === 'close' && target.kind === 'socket' && target.remote) {
      const doc = this.base(rec, 'network', 'disconnect_received', ['end'], proc, 'd');
      this.socketEnds(doc, target);
      emit(doc);
    }
  }

  /**
   * A pipe or unix-socket connection got its identity: no document of its own, but the fds are named so their
   * aggregated reads and writes become documents joined by that identity. A pipe is its inode. A unix connection
   * (socketpair, or connect/accept through a listening socket) is the pair of its two kernel sockets, which both
   * ends can name even after the other closed; the pair is hashed with this run's secret so no kernel address
   * reaches a document.
   */
  private channel(rec: ChannelRecord): void {
    const [a, b] = rec.fds;
    if (rec.via === 'pipe') {
      if (!rec.inodes[0]) return;
      this.o.fds.set(rec.tgid, a, { kind: 'pipe', inode: String(rec.inodes[0]) });
      this.o.fds.set(rec.tgid, b, { kind: 'pipe', inode: String(rec.inodes[0]) });
      return;
    }
    const [own, peer] = rec.socks;
    if (!own) return;
    const channel = this.socketPairId(own, peer);
    if (rec.via === 'socketpair') {
      for (const fd of [a, b]) this.o.fds.set(rec.tgid, fd, { kind: 'socket', family: 'unix', channel });
    } else {
      this.o.fds.updateSocket(rec.tgid, a, { family: 'unix', channel });
    }
  }

  private socketPairId(x: string, y: string): string {
    const [lo, hi] = x < y ? [x, y] : [y, x];
    return createHmac('sha256', this.channelSecret).update(`${lo}|${hi}`).digest('hex').slice(0, 16);
  }

  /**
   * Opens the kernel folded (docs/ebpf.md "Folding"): one `open` document standing for `count` opens of the same
   * file version, timed from the first to the last of them, plus the reads made through those fds, summed.
   */
  private fold(rec: FoldRecord, emit: (doc: EcsEvent) => void): void {
    const proc = this.processFields(this.process(rec));
    const path = this.resolvePath(rec.tgid, AT_FDCWD, rec.path);
    const doc = this.base(rec, 'file', 'open', ['access'], proc, 'o', rec.firstNs || rec.tsNs);
    this.span(doc, rec.firstNs, rec.lastNs, rec.tsNs);
    doc.file = this.fileFields(path);
    doc.provmon = { count: rec.count, open: { flags: openFlagNames(rec.openFlags) } };
    emit(doc);
    const target = { kind: 'file' as const, path };
    if (rec.rdCalls > 0) emit(this.ioDoc(rec, target, proc, 'read', rec.rdCalls, rec.rdBytes, rec.rdFirstNs, rec.rdLastNs));
    if (rec.wrCalls > 0) emit(this.ioDoc(rec, target, proc, 'write', rec.wrCalls, rec.wrBytes, rec.wrFirstNs, rec.wrLastNs));
  }

  private span(doc: EcsEvent, firstNs: number, lastNs: number, fallbackNs: number): void {
    doc.event.start = this.o.toIso(firstNs || fallbackNs);
    doc.event.end = this.o.toIso(lastNs || fallbackNs);
    doc.event.duration = Math.max(0, (lastNs || fallbackNs) - (firstNs || fallbackNs));
  }

  private ioDoc(
    rec: IoRecord | FoldRecord,
    target: Exclude<FdTarget, { kind: 'other' }>,
    proc: EcsProcess,
    direction: 'read' | 'write',
    calls: number,
    bytes: number,
    firstNs: number,
    lastNs: number,
  ): EcsEvent {
    const channel: { kind: 'pipe' | 'unix_socket'; id: string } | undefined =
      target.kind === 'pipe' ? { kind: 'pipe', id: target.inode } : target.kind === 'socket' && target.channel ? { kind: 'unix_socket', id: target.channel } : undefined;
    // Pipes and local socket connections are read and written like files: their node in the graph is the channel.
    const isSocket = target.kind === 'socket' && channel === undefined;
    const action: EventAction = isSocket ? (direction === 'read' ? 'receive' : 'send') : direction;
    const type = isSocket ? ['connection'] : direction === 'read' ? ['access'] : ['change'];
    // The aggregate's own time is its last call, so a trace orders it after the reads/writes it sums up.
    const doc = this.base(rec, isSocket ? 'network' : 'file', action, type, proc, direction === 'read' ? 'r' : 'w', lastNs || rec.tsNs);
    this.span(doc, firstNs, lastNs, rec.tsNs);
    doc.provmon = rec.kind === 'fold' ? { io: { count: calls, bytes }, io_reason: 'fold' } : { io: { count: calls, bytes }, fd: rec.fd, io_reason: rec.reason };
    if (target.kind === 'file') {
      doc.file = this.fileFields(target.path);
    } else if (channel) {
      // A pipe has the name /proc/<pid>/fd gives it (pipe:[inode]); a unix connection, its hashed identity.
      doc.file = channel.kind === 'pipe' ? { path: `pipe:[${channel.id}]`, type: 'pipe', inode: channel.id } : { path: `unix-socket:[${channel.id}]`, type: 'socket' };
      doc.provmon.channel = channel;
    } else if (target.kind === 'socket') {
      this.socketEnds(doc, target);
    }
    return doc;
  }

  private setid(rec: SetidRecord, emit: (doc: EcsEvent) => void): void {
    const info = this.process(rec);
    const isUid = rec.kind.endsWith('uid');
    const previous = isUid ? info.uid : info.gid;
    if (rec.ret >= 0) {
      info.uid = rec.euid;
      info.gid = rec.egid;
    }
    const doc = this.base(rec, 'process', isUid ? 'uid_change' : 'gid_change', ['change'], this.processFields(info), 'u');
    doc.provmon = { previous_user_id: String(previous), setid: { syscall: rec.kind, ids: rec.ids } };
    if (rec.ret < 0) this.failed(doc, rec.ret);
    emit(doc);
  }

  private net(rec: NetRecord, emit: (doc: EcsEvent) => void): void {
    const family = rec.family === AF_INET ? 'ipv4' : rec.family === AF_INET6 ? 'ipv6' : rec.family === AF_UNIX ? 'unix' : 'other';
    const transport = rec.type === 1 ? 'tcp' : rec.type === 2 ? 'udp' : 'other';
    const local = rec.localAddress !== null ? { ip: rec.localAddress, port: rec.localPort } : undefined;
    const remote = rec.remoteAddress !== null ? { ip: rec.remoteAddress, port: rec.remotePort } : undefined;
    const proc = () => this.processFields(this.process(rec));
    switch (rec.kind) {
      case 'socket': {
        if (rec.ret >= 0) this.o.fds.set(rec.tgid, rec.ret, { kind: 'socket', family, transport });
        const doc = this.base(rec, 'network', 'socket', ['info'], proc(), 'n');
        this.networkFields(doc, family, transport);
        if (rec.ret < 0) this.failed(doc, rec.ret);
        return emit(doc);
      }
      case 'sendto':
      case 'recvfrom':
        // The bytes arrive in the fd's aggregate; a new peer only renames what that aggregate will report.
        if (remote) this.o.fds.updateSocket(rec.tgid, rec.fd, { family, remote, ...(local ? { local } : {}) });
        return;
      case 'connect': {
        // EINPROGRESS is how a non-blocking connect starts, not a failure.
        if (rec.ret >= 0 || rec.ret === -115) this.o.fds.updateSocket(rec.tgid, rec.fd, { family, ...(remote ? { remote } : {}), ...(local ? { local } : {}), role: 'client' });
        const doc = this.base(rec, 'network', 'connection_attempted', ['start', 'connection'], proc(), 'c');
        this.endpoints(doc, local, remote, family, this.transportOf(rec.tgid, rec.fd) ?? transport, rec.unixPath);
        if (rec.ret === -115) {
          doc.event.outcome = 'unknown';
          doc.error = { code: 'EINPROGRESS' };
        } else if (rec.ret < 0) this.failed(doc, rec.ret);
        return emit(doc);
      }
      case 'accept':
      case 'accept4': {
        if (rec.ret >= 0) {
          // The channel record of a unix accept may have come first: keep the identity it gave the fd.
          const prior = this.o.fds.get(rec.tgid, rec.ret);
          const channel = prior?.kind === 'socket' ? prior.channel : undefined;
          this.o.fds.set(rec.tgid, rec.ret, { kind: 'socket', family, transport: family === 'unix' ? 'other' : 'tcp', ...(remote ? { remote } : {}), ...(local ? { local } : {}), role: 'server', ...(channel ? { channel } : {}) });
        }
        const doc = this.base(rec, 'network', 'connection_accepted', ['start', 'connection'], proc(), 'a');
        // For an accepted connection the peer is the source and this host the destination.
        this.endpoints(doc, remote, local, family, family === 'unix' ? 'other' : 'tcp', rec.unixPath);
        if (rec.ret < 0) this.failed(doc, rec.ret);
        return emit(doc);
      }
      default: {
        // bind, listen
        if (rec.kind === 'bind' && rec.ret >= 0 && local) this.o.fds.updateSocket(rec.tgid, rec.fd, { family, local });
        const bound = this.o.fds.get(rec.tgid, rec.fd);
        const doc = this.base(rec, 'network', rec.kind, rec.kind === 'listen' ? ['start'] : ['info'], proc(), rec.kind === 'bind' ? 'b' : 'l');
        const at = local ?? (bound?.kind === 'socket' ? bound.local : undefined);
        this.endpoints(doc, at, undefined, family, this.transportOf(rec.tgid, rec.fd) ?? transport, rec.unixPath);
        if (rec.ret < 0) this.failed(doc, rec.ret);
        return emit(doc);
      }
    }
  }

  private transportOf(tgid: number, fd: number): 'tcp' | 'udp' | 'other' | undefined {
    const t = this.o.fds.get(tgid, fd);
    return t?.kind === 'socket' ? t.transport : undefined;
  }

  private endpoints(
    doc: EcsEvent,
    source: { ip: string; port: number } | undefined,
    destination: { ip: string; port: number } | undefined,
    family: string,
    transport: string,
    unixPath: string | null,
  ): void {
    if (source) doc.source = { ip: source.ip, port: source.port };
    if (destination) doc.destination = { ip: destination.ip, port: destination.port };
    if (unixPath) doc.file = { path: unixPath, name: posix.basename(unixPath), type: 'socket' };
    this.networkFields(doc, family, transport);
    // The flows' Community ID, so a socket event joins its packets, and the other end's events on another host.
    if (source && destination && (transport === 'tcp' || transport === 'udp') && doc.network) {
      doc.network.community_id = communityIdFromText(unmapIp(source.ip), unmapIp(destination.ip), transport === 'tcp' ? 6 : 17, source.port, destination.port);
    }
  }

  private socketEnds(doc: EcsEvent, target: Extract<FdTarget, { kind: 'socket' }>): void {
    // Client sockets: this host is the source; accepted sockets: the peer is.
    const [src, dst] = target.role === 'server' ? [target.remote, target.local] : [target.local, target.remote];
    this.endpoints(doc, src, dst, target.family, target.transport ?? 'other', null);
  }

  private networkFields(doc: EcsEvent, family: string, transport: string): void {
    doc.network = {
      ...(family === 'ipv4' || family === 'ipv6' || family === 'unix' ? { type: family } : {}),
      ...(transport !== 'other' ? { transport, iana_number: transport === 'tcp' ? '6' : '17' } : {}),
    };
  }

  private failed(doc: EcsEvent, ret: number): EcsEvent {
    doc.event.outcome = 'failure';
    doc.error = { code: errnoName(ret) ?? `E${-ret}` };
    return doc;
  }

  private process(h: RecordHeader): ProcessInfo {
    return this.o.processes.get(h.tgid) ?? this.processFromHeader(h);
  }

  /** A process whose fork we never saw: described from the record header alone, and remembered. */
  private processFromHeader(h: RecordHeader): ProcessInfo {
    this.stats.unknownProcess += 1;
    // Interval flushes carry only the tgid: /proc is the one place left to learn who the process is.
    if ((h.recordFlags & Flag.NO_TASK) !== 0 && this.o.liveProcesses !== false) {
      const snapshot = readProcess(h.tgid);
      if (snapshot) return this.o.processes.adopt(snapshot, this.o.toEpochMs(h.tsNs));
    }
    const startTicks = h.startNs ? ticksFromBootNs(h.startNs) : 0;
    return this.o.processes.exec(
      h.tgid,
      { executable: readExe(h.tgid) ?? '', args: [], name: h.comm, startTicks, ppid: h.ppid, uid: h.uid, gid: h.gid },
      this.o.toEpochMs(h.tsNs),
    );
  }

  private processFields(info: ProcessInfo): EcsProcess {
    const parent = this.o.processes.get(info.ppid);
    const memo = this.processMemos.get(info.pid);
    if (
      memo !== undefined &&
      memo.info === info &&
      memo.parent === parent &&
      memo.executable === info.executable &&
      memo.args === info.args &&
      memo.name === info.name &&
      memo.cwd === info.cwd &&
      memo.ttyNr === info.ttyNr &&
      memo.ppid === info.ppid &&
      memo.parentEntityId === info.parentEntityId &&
      memo.parentExecutable === parent?.executable &&
      memo.parentName === parent?.name &&
      memo.parentArgs === parent?.args
    ) {
      return memo.fields;
    }
    const fields = this.buildProcessFields(info, parent);
    if (memo !== undefined || this.processMemos.size < MAX_PROCESS_MEMOS) {
      this.processMemos.set(info.pid, {
        fields, info, parent, executable: info.executable, args: info.args, name: info.name, cwd: info.cwd, ttyNr: info.ttyNr, ppid: info.ppid,
        parentEntityId: info.parentEntityId, parentExecutable: parent?.executable, parentName: parent?.name, parentArgs: parent?.args,
      });
    }
    return fields;
  }

  private buildProcessFields(info: ProcessInfo, parent: ProcessInfo | undefined): EcsProcess {
    const proc: EcsProcess = {
      pid: info.pid,
      entity_id: info.entityId,
      name: info.name,
      start: info.start,
      ...(info.executable ? { executable: info.executable } : {}),
      args: info.args,
      args_count: info.args.length,
      ...(info.args.length ? { command_line: info.args.join(' ') } : {}),
      ...(info.cwd ? { working_directory: info.cwd } : {}),
    };
    if (info.ttyNr !== undefined) {
      proc.interactive = info.ttyNr !== 0;
      if (info.ttyNr !== 0) proc.tty = { char_device: ttyDevice(info.ttyNr) };
    }
    proc.parent = { pid: info.ppid, entity_id: info.parentEntityId ?? parent?.entityId ?? '' };
    if (parent?.executable) proc.parent.executable = parent.executable;
    if (parent?.name) proc.parent.name = parent.name;
    if (parent?.args.length) {
      proc.parent.args = parent.args;
      proc.parent.args_count = parent.args.length;
      proc.parent.command_line = parent.args.join(' ');
    }
    if (!proc.parent.entity_id) delete (proc.parent as { entity_id?: string }).entity_id;
    return proc;
  }

  /** A file's path, name and directory, shared by the documents about it (an open and its reads and writes). */
  private fileFields(path: string): FileFields {
    let fields = this.files.get(path);
    if (fields === undefined) {
      fields = { path, name: posix.basename(path), directory: posix.dirname(path) };
      // a bound, not an LRU: the working set of a burst refills it at once
      if (this.files.size >= MAX_FILE_MEMOS) this.files.clear();
      this.files.set(path, fields);
    }
    return fields;
  }

  private dataStream(dataset: DatasetName): DataStream {
    let ds = this.dataStreams.get(dataset);
    if (ds === undefined) {
      ds = { type: 'logs' as const, dataset, namespace: this.o.namespace };
      this.dataStreams.set(dataset, ds);
    }
    return ds;
  }

  private base(h: RecordHeader, category: Category, action: EventAction, type: string[], process: EcsProcess, tag: string, atNs = h.tsNs): EcsEvent {
    const dataset = datasetName(category);
    const doc: EcsEvent = {
      '@timestamp': this.o.toIso(atNs),
      event: {
        kind: 'event',
        category: [category],
        type,
        action,
        outcome: 'success',
        dataset,
        module: 'provmon',
        // Unique per host and boot: kernel time, thread and record tag (one record may yield a read and a write).
        id: `${this.idPrefix}-${h.tsNs.toString(36)}-${h.pid.toString(36)}-${tag}`,
        sequence: atNs,
      },
      host: this.host,
      data_stream: this.dataStream(dataset),
      process,
    };
    // assigned after the literal (not spread into it): the same key order without an object per document
    this.identity(doc, h);
    return doc;
  }

  /**
   * user/group of the event: the record's effective ids, or for a record without task context (an interval
   * flush) the process table's; an id nobody knows (-1) leaves the field out rather than claiming root.
   */
  private identity(doc: EcsEvent, h: RecordHeader): void {
    let uid = h.euid;
    let gid = h.egid;
    if ((h.recordFlags & Flag.NO_TASK) !== 0) {
      const info = this.o.processes.get(h.tgid);
      uid = info?.uid ?? -1;
      gid = info?.gid ?? -1;
    }
    this.addIdentity(doc, uid, gid);
  }

  private addIdentity(doc: EcsEvent, uid: number, gid: number): void {
    if (uid >= 0) doc.user = account(this.users, uid, this.accounts.user(uid));
    if (gid >= 0) doc.group = account(this.groups, gid, this.accounts.group(gid));
  }

  /** Relative paths are made absolute against the directory fd or the process's working directory. */
  private resolvePath(tgid: number, dirfd: number, path: string): string {
    if (path.startsWith('/') || path === '') return path;
    let base: string | undefined;
    if (dirfd === AT_FDCWD) base = readCwd(tgid);
    else {
      const dir = this.o.fds.get(tgid, dirfd);
      base = dir?.kind === 'file' ? dir.path : undefined;
    }
    return base ? posix.join(base, path) : path;
  }
}

/** The shared user or group object for an id, made anew when its name changed (the account files were edited). */
function account(memo: Map<number, { id: string; name?: string }>, id: number, name: string | undefined): { id: string; name?: string } {
  const have = memo.get(id);
  if (have !== undefined && have.name === name) return have;
  const made = name === undefined ? { id: String(id) } : { id: String(id), name };
  if (have !== undefined || memo.size < MAX_ACCOUNT_MEMOS) memo.set(id, made);
  return made;
}

/** /proc's tty_nr is the kernel's new_encode_dev(): major in bits 8-19, minor in bits 0-7 and 20-31. */
export function ttyDevice(ttyNr: number): { major: number; minor: number } {
  return { major: (ttyNr >>> 8) & 0xfff, minor: (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00) };
}

/** Header flags saying the kernel cut part of the payload. */
const TRUNCATION_FLAGS = Flag.TRUNC_PATH | Flag.TRUNC_ARGS | Flag.TRUNC_ARG | Flag.TRUNC_EXE | Flag.READ_FAULT;
const TRUNCATION_NAMES: [number, string][] = [
  [Flag.TRUNC_PATH, 'path'],
  [Flag.TRUNC_ARGS, 'args'],
  [Flag.TRUNC_ARG, 'arg'],
  [Flag.TRUNC_EXE, 'executable'],
  [Flag.READ_FAULT, 'unreadable'],
];

/** provmon.truncated names what the kernel could not copy whole, so a reader knows a value is partial. */
function markTruncated(doc: EcsEvent, flags: number): EcsEvent {
  const truncated = TRUNCATION_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  doc.provmon = { ...doc.provmon, truncated };
  return doc;
}

function readCwd(tgid: number): string | undefined {
  try {
    return readlinkName(`/proc/${tgid}/cwd`);
  } catch {
    return undefined; // exited already: the path stays relative, which is still the truth we have
  }
}

function readExe(tgid: number): string | undefined {
  try {
    return readlinkName(`/proc/${tgid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}
