import { processEntityId } from './entity-id.ts';
import type { HostIdentity } from './host.ts';
import { NS_PER_TICK } from './host.ts';
import { scanProcesses, type ProcSnapshot } from './proc-scan.ts';

export interface ProcessInfo {
  pid: number;
  entityId: string;
  ppid: number;
  parentEntityId: string | undefined;
  name: string;
  executable: string | undefined;
  args: string[];
  startTicks: number;
  /** ISO time the process started */
  start: string;
  uid: number;
  gid: number;
  cwd: string | undefined;
  /** controlling terminal as /proc encodes it (0: none); undefined when unknown */
  ttyNr: number | undefined;
  /** Set on exit; the entry lingers a while for events still in flight from other CPUs. */
  exitedAtMs?: number;
  exitCode?: number;
}

export interface ProcessTableOptions {
  host: HostIdentity;
  /** How long an exited process stays resolvable (events from other CPUs can arrive after the exit). */
  lingerMs?: number;
  /** Upper bound on entries, live and lingering; beyond it the oldest exited ones go first. */
  maxEntries?: number;
}

/**
 * Processes by pid, seeded from /proc and kept current by fork, exec and exit. It turns the bare pids in kernel
 * records into stable entity ids and the process fields every ECS event carries.
 */
export class ProcessTable {
  private readonly byPid = new Map<number, ProcessInfo>();
  private readonly exited: number[] = [];
  private readonly lingerMs: number;
  private readonly maxEntries: number;
  /** Entries dropped because maxEntries was reached while all were live: counted, never silent. */
  evicted = 0;

  constructor(private readonly options: ProcessTableOptions) {
    this.lingerMs = options.lingerMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.byPid.size;
  }

  entityId(pid: number, startTicks: number): string {
    return processEntityId(this.options.host.id, pid, startTicks);
  }

  startIso(startTicks: number): string {
    return new Date(this.options.host.bootTimeMs + (startTicks * NS_PER_TICK) / 1e6).toISOString();
  }

  /** Seeds the table from /proc so processes older than the sensor have executable, args and parent. */
  seedFromProc(snapshots: ProcSnapshot[] = scanProcesses()): number {
    for (const s of snapshots) this.put(this.fromSnapshot(s));
    // Parents are resolved after every process is known, whatever the directory order was.
    for (const info of this.byPid.values()) info.parentEntityId = this.byPid.get(info.ppid)?.entityId;
    return snapshots.length;
  }

  fromSnapshot(s: ProcSnapshot): ProcessInfo {
    return {
      pid: s.pid,
      entityId: this.entityId(s.pid, s.startTicks),
      ppid: s.ppid,
      parentEntityId: undefined,
      name: s.name,
      executable: s.executable,
      args: s.args,
      startTicks: s.startTicks,
      start: this.startIso(s.startTicks),
      uid: s.uid,
      gid: s.gid,
      cwd: s.cwd,
      ttyNr: s.ttyNr,
    };
  }

  /** A process learnt from /proc after start-up (a record arrived for a pid we never saw fork). */
  adopt(snapshot: ProcSnapshot, nowMs: number): ProcessInfo {
    const info = this.fromSnapshot(snapshot);
    info.parentEntityId = this.byPid.get(info.ppid)?.entityId;
    this.put(info, nowMs);
    return info;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.byPid.get(pid);
  }

  /** A new process: it starts as a copy of its parent's image (fork does not exec). */
  fork(parentPid: number, childPid: number, childStartTicks: number, nowMs: number): ProcessInfo {
    const parent = this.byPid.get(parentPid);
    const child: ProcessInfo = {
      pid: childPid,
      entityId: this.entityId(childPid, childStartTicks),
      ppid: parentPid,
      parentEntityId: parent?.entityId,
      name: parent?.name ?? '',
      executable: parent?.executable,
      args: parent?.args ?? [],
      startTicks: childStartTicks,
      start: this.startIso(childStartTicks),
      uid: parent?.uid ?? -1,
      gid: parent?.gid ?? -1,
      cwd: parent?.cwd,
      ttyNr: parent?.ttyNr,
    };
    this.put(child, nowMs);
    return child;
  }

  /**
   * A new image in an existing process: entity id and parent stay, executable and args change. A pid we never saw
   * (its fork was lost or predates a gap) is created from what the exec tells.
   */
  exec(
    pid: number,
    update: { executable: string; args: string[]; name: string; startTicks: number; ppid: number; uid: number; gid: number; cwd?: string; ttyNr?: number },
    nowMs: number,
  ): ProcessInfo {
    let info = this.byPid.get(pid);
    if (!info || info.startTicks !== update.startTicks) {
      info = {
        pid,
        entityId: this.entityId(pid, update.startTicks),
        ppid: update.ppid,
        parentEntityId: this.byPid.get(update.ppid)?.entityId,
        name: update.name,
        executable: update.executable,
        args: update.args,
        startTicks: update.startTicks,
        start: this.startIso(update.startTicks),
        uid: update.uid,
        gid: update.gid,
        cwd: update.cwd,
        ttyNr: update.ttyNr,
      };
      this.put(info, nowMs);
      return info;
    }
    info.executable = update.executable;
    info.args = update.args;
    info.name = update.name;
    info.uid = update.uid;
    info.gid = update.gid;
    if (update.cwd !== undefined) info.cwd = update.cwd;
    if (update.ttyNr !== undefined) info.ttyNr = update.ttyNr;
    return info;
  }

  exit(pid: number, exitCode: number, nowMs: number): ProcessInfo | undefined {
    const info = this.byPid.get(pid);
    if (!info) return undefined;
    info.exitedAtMs = nowMs;
    info.exitCode = exitCode;
    this.exited.push(pid);
    this.expire(nowMs);
    return info;
  }

  /** Drops exited processes whose linger time is over. */
  expire(nowMs: number): void {
    while (this.exited.length) {
      const pid = this.exited[0]!;
      const info = this.byPid.get(pid);
      if (info?.exitedAtMs !== undefined && nowMs - info.exitedAtMs < this.lingerMs) break;
      this.exited.shift();
      if (info?.exitedAtMs !== undefined) this.byPid.delete(pid);
    }
  }

  private put(info: ProcessInfo, nowMs = Date.now()): void {
    if (!this.byPid.has(info.pid) && this.byPid.size >= this.maxEntries) {
      this.expire(nowMs + this.lingerMs); // first let lingering exits go
      if (this.byPid.size >= this.maxEntries) {
        const oldest = this.byPid.keys().next().value;
        if (oldest !== undefined) this.byPid.delete(oldest);
        this.evicted += 1;
      }
    }
    this.byPid.set(info.pid, info);
  }
}
