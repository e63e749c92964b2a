/**
 * A real `bin/provmon` process for tests that talk to it through signals and read its structured (JSON) log:
 * waitFor() matches parsed log records by their fields, never by message wording.
 */
import { resolve } from 'node:path';

const PROVMON = resolve(import.meta.dir, '../../bin/provmon');

export type LogRecord = Record<string, unknown> & { level?: number; msg?: string; phase?: string };

export interface ProvmonProcess {
  pid: number;
  records: LogRecord[];
  /** Lines on stderr that were not JSON (there should be none from a run). */
  rawLines: string[];
  stdout(): Promise<string>;
  /** Resolves with the first record (already seen or to come) that matches; rejects when the process ends first. */
  waitFor(match: (r: LogRecord) => boolean, what: string, timeoutMs?: number): Promise<LogRecord>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<number>;
  /** The final summary record (phase "stopped"), once the process has exited. */
  summary(): LogRecord | undefined;
  kill(): void;
}

export function spawnProvmon(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): ProvmonProcess {
  const child = Bun.spawn([PROVMON, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: { ...process.env, PROVMON_LOG_FORMAT: 'json', ...opts.env },
  });
  const records: LogRecord[] = [];
  const rawLines: string[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const take = (line: string): void => {
    if (!line) return;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      rawLines.push(line);
    }
    for (const w of [...waiters]) w();
  };
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        take(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    take(buffer);
  })();
  const stdoutText = new Response(child.stdout).text();
  const exited = (async () => {
    const code = await child.exited;
    await reading;
    ended = true;
    for (const w of [...waiters]) w();
    return code;
  })();
  return {
    pid: child.pid,
    records,
    rawLines,
    stdout: () => stdoutText,
    exited,
    signal: (sig) => child.kill(sig),
    kill: () => child.kill('SIGKILL'),
    summary: () => records.find((r) => r.phase === 'stopped'),
    waitFor(match, what, timeoutMs = 60_000) {
      return new Promise<LogRecord>((res, rej) => {
        const timer = setTimeout(() => done(() => rej(new Error(`timed out waiting for ${what}; log:\n${tail()}`))), timeoutMs);
        const tail = () => [...records.slice(-15).map((r) => JSON.stringify(r)), ...rawLines.slice(-15)].join('\n');
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        const check = (): void => {
          const hit = records.find(match);
          if (hit) done(() => res(hit));
          else if (ended) done(() => rej(new Error(`provmon ended before ${what}; log:\n${tail()}`)));
        };
        waiters.add(check);
        check();
      });
    },
  };
}
