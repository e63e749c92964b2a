import { readdirSync, readFileSync } from 'node:fs';
import { nameOf, readlinkName, readNulSeparatedNames } from './proc-names.ts';

/** What /proc tells about one process: enough to describe processes older than the sensor. */
export interface ProcSnapshot {
  pid: number;
  ppid: number;
  /** comm, at most 15 bytes */
  name: string;
  executable: string | undefined;
  args: string[];
  startTicks: number;
  uid: number;
  gid: number;
  cwd: string | undefined;
  /** controlling terminal, /proc/<pid>/stat field 7 (0: none) */
  ttyNr: number;
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Parses /proc/<pid>/stat; comm may contain spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string): { name: string; ppid: number; startTicks: number; ttyNr: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, tty_nr field 7, starttime field 22.
  const ppid = Number(fields[1]);
  const ttyNr = Number(fields[4]);
  const startTicks = Number(fields[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { name: text.slice(open + 1, close), ppid, startTicks, ttyNr: Number.isFinite(ttyNr) ? ttyNr : 0 };
}

function idsFromStatus(text: string, key: 'Uid' | 'Gid'): number {
  const line = text.split('\n').find((l) => l.startsWith(`${key}:`));
  return line ? Number(line.split(/\s+/)[2] ?? -1) : -1; // the effective id
}

function readArgs(path: string): string[] {
  try {
    return readNulSeparatedNames(path);
  } catch {
    return [];
  }
}

export function readProcess(pid: number, procRoot = '/proc'): ProcSnapshot | undefined {
  const base = `${procRoot}/${pid}`;
  // latin1 keeps one character per byte, so comm's bytes survive the parse and are decoded as a name after it.
  const stat = readOrUndefined(() => readFileSync(`${base}/stat`, 'latin1'));
  if (!stat) return undefined; // gone already: a race with exit, not an error
  const parsed = parseStat(stat);
  if (!parsed) return undefined;
  const status = readOrUndefined(() => readFileSync(`${base}/status`, 'utf8')) ?? '';
  const args = readArgs(`${base}/cmdline`);
  const exe = readOrUndefined(() => readlinkName(`${base}/exe`));
  return {
    pid,
    ppid: parsed.ppid,
    name: nameOf(Buffer.from(parsed.name, 'latin1')),
    executable: exe?.replace(/ \(deleted\)$/, ''),
    args,
    startTicks: parsed.startTicks,
    uid: idsFromStatus(status, 'Uid'),
    gid: idsFromStatus(status, 'Gid'),
    cwd: readOrUndefined(() => readlinkName(`${base}/cwd`)),
    ttyNr: parsed.ttyNr,
  };
}

/**
 * What an exec record cannot tell and /proc can, read right after the exec: the working directory (chdir is not
 * traced) and the controlling terminal. Undefined when the process is gone already.
 */
export function readExecContext(pid: number, procRoot = '/proc'): { cwd: string | undefined; ttyNr: number } | undefined {
  const stat = readOrUndefined(() => readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  const parsed = stat ? parseStat(stat) : undefined;
  if (!parsed) return undefined;
  return { cwd: readOrUndefined(() => readlinkName(`${procRoot}/${pid}/cwd`)), ttyNr: parsed.ttyNr };
}

/** Every process (thread-group leader) visible now. Threads are not listed under /proc directly, only their leaders. */
export function scanProcesses(procRoot = '/proc'): ProcSnapshot[] {
  const out: ProcSnapshot[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const snap = readProcess(Number(name), procRoot);
    if (snap) out.push(snap);
  }
  return out;
}
