import { readdirSync, readlinkSync } from 'node:fs';

export type FdTarget =
  | { kind: 'file'; path: string }
  | {
      kind: 'socket';
      family: 'ipv4' | 'ipv6' | 'unix' | 'other';
      transport?: 'tcp' | 'udp' | 'other';
      local?: { ip: string; port: number };
      remote?: { ip: string; port: number };
      /** how the socket got its peer: connect() or accept() */
      role?: 'client' | 'server';
      /** unix sockets: the inode naming the connection on both ends (see SyscallEventBuilder.channel) */
      channel?: string;
    }
  /** a pipe end; both ends share the inode */
  | { kind: 'pipe'; inode: string }
  | { kind: 'other'; what: string };

/**
 * Open file descriptors per process, so an aggregated read/write record (which carries only a tgid and an fd) can
 * name the file or the socket peer. Bounded: a process holds at most maxFdsPerProcess entries, beyond which the
 * oldest is forgotten and counted.
 */
export class FdTable {
  private readonly byTgid = new Map<number, Map<number, FdTarget>>();
  /** Entries forgotten because of the per-process bound. */
  evicted = 0;

  constructor(private readonly maxFdsPerProcess = 65_536) {}

  set(tgid: number, fd: number, target: FdTarget): void {
    let fds = this.byTgid.get(tgid);
    if (!fds) {
      fds = new Map();
      this.byTgid.set(tgid, fds);
    }
    if (!fds.has(fd) && fds.size >= this.maxFdsPerProcess) {
      const oldest = fds.keys().next().value;
      if (oldest !== undefined) fds.delete(oldest);
      this.evicted += 1;
    }
    fds.set(fd, target);
  }

  get(tgid: number, fd: number): FdTarget | undefined {
    return this.byTgid.get(tgid)?.get(fd);
  }

  /** Updates a socket entry in place (connect/accept give the peer after socket() created it). */
  updateSocket(tgid: number, fd: number, update: Partial<Extract<FdTarget, { kind: 'socket' }>>): void {
    const current = this.get(tgid, fd);
    const base: Extract<FdTarget, { kind: 'socket' }> = current?.kind === 'socket' ? current : { kind: 'socket', family: 'other' };
    this.set(tgid, fd, { ...base, ...update, kind: 'socket' });
  }

  close(tgid: number, fd: number): FdTarget | undefined {
    const fds = this.byTgid.get(tgid);
    const target = fds?.get(fd);
    fds?.delete(fd);
    return target;
  }

  /** A child starts with a copy of its parent's descriptors. */
  fork(parentTgid: number, childTgid: number): void {
    const parent = this.byTgid.get(parentTgid);
    if (parent) this.byTgid.set(childTgid, new Map(parent));
  }

  exit(tgid: number): void {
    this.byTgid.delete(tgid);
  }

  /** Descriptors of processes older than the sensor, from /proc/<pid>/fd (sockets appear as socket:[inode]). */
  seedFromProc(pids: number[], procRoot = '/proc'): void {
    for (const pid of pids) {
      let names: string[];
      try {
        names = readdirSync(`${procRoot}/${pid}/fd`);
      } catch {
        continue; // gone, or not ours to read
      }
      for (const name of names) {
        let link: string;
        try {
          link = readlinkSync(`${procRoot}/${pid}/fd/${name}`);
        } catch {
          continue;
        }
        const fd = Number(name);
        if (link.startsWith('/')) this.set(pid, fd, { kind: 'file', path: link.replace(/ \(deleted\)$/, '') });
        else if (link.startsWith('socket:')) this.set(pid, fd, { kind: 'socket', family: 'other' });
        else if (/^pipe:\[\d+\]$/.test(link)) this.set(pid, fd, { kind: 'pipe', inode: link.slice(6, -1) });
        else this.set(pid, fd, { kind: 'other', what: link });
      }
    }
  }
}
