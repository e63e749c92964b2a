/**
 * A private auditd for tests: its own config directory and log file, the ruleset of docs/audit.md scoped to one
 * test uid, and a stop() that puts the kernel's audit state back as it found it (rules removed, enabled flag and
 * backlog restored, the daemon it started stopped). Refuses to run beside another audit daemon: only one can
 * receive the kernel's records.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AuditStatus {
  enabled: number;
  pid: number;
  backlogLimit: number;
}

function sh(args: string[]): string {
  const r = Bun.spawnSync(args, { stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`${args.join(' ')} failed (${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

export function auditStatus(): AuditStatus {
  const out = sh(['auditctl', '-s']);
  const get = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(out)?.[1] ?? NaN);
  return { enabled: get('enabled'), pid: get('pid'), backlogLimit: get('backlog_limit') };
}

/** The ruleset of docs/audit.md, each rule narrowed to one uid so a shared machine's other work stays out. */
export function rulesFor(uid: number): string[][] {
  const scope = ['-F', `uid=${uid}`];
  return [
    ['-F', 'arch=b64', '-S', 'execve,execveat', ...scope, '-k', 'pm_exec'],
    ['-F', 'arch=b64', '-S', 'clone,fork,vfork,exit_group', ...scope, '-k', 'pm_proc'],
    ['-F', 'arch=b64', '-S', 'connect,accept,accept4,bind,sendto,sendmsg', ...scope, '-k', 'pm_net'],
    ['-F', 'arch=b64', '-S', 'openat,unlinkat,renameat,renameat2', '-F', 'success=1', '-F', 'dir=/tmp', ...scope, '-k', 'pm_file'],
  ];
}

export class AuditSession {
  readonly logFile: string;
  private daemon: ReturnType<typeof Bun.spawn> | undefined;
  private readonly before: AuditStatus;
  private added: string[][] = [];

  constructor(
    private readonly dir: string,
    private readonly uid: number,
  ) {
    this.before = auditStatus();
    if (this.before.pid !== 0) {
      throw new Error(`an audit daemon (pid ${this.before.pid}) already receives the kernel's records; stop it to run this test (systemctl stop auditd)`);
    }
    this.logFile = join(dir, 'audit', 'audit.log');
  }

  async start(): Promise<void> {
    const conf = join(this.dir, 'conf');
    mkdirSync(conf, { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'audit'), { recursive: true, mode: 0o700 });
    // ENRICHED is Debian's default log_format; flush=DATA writes each record before the test reads the file
    writeFileSync(
      join(conf, 'auditd.conf'),
      [
        'local_events = yes',
        'write_logs = yes',
        `log_file = ${this.logFile}`,
        'log_format = ENRICHED',
        'flush = DATA',
        'max_log_file = 256',
        'num_logs = 1',
        'max_log_file_action = IGNORE',
        'name_format = NONE',
        'space_left = 2',
        'space_left_action = IGNORE',
        'admin_space_left = 1',
        'admin_space_left_action = IGNORE',
        'disk_full_action = IGNORE',
        'disk_error_action = IGNORE',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    this.daemon = Bun.spawn(['auditd', '-n', '-c', conf], { stdout: 'ignore', stderr: 'pipe' });
    const deadline = Date.now() + 10_000;
    while (auditStatus().pid !== this.daemon.pid) {
      if (Date.now() > deadline || this.daemon.exitCode !== null) {
        const err = this.daemon.stderr instanceof ReadableStream ? await new Response(this.daemon.stderr).text() : '';
        throw new Error(`auditd did not register with the kernel: ${err.trim().slice(-500)}`);
      }
      await Bun.sleep(50);
    }
    sh(['auditctl', '-b', '8192']);
    for (const rule of rulesFor(this.uid)) {
      sh(['auditctl', '-a', 'always,exit', ...rule]);
      this.added.push(rule);
    }
  }

  /** Removes the rules, waits for the daemon to write what it holds, and restores the kernel's state. */
  async stop(): Promise<void> {
    const errors: string[] = [];
    for (const rule of this.added) {
      try {
        sh(['auditctl', '-d', 'always,exit', ...rule]);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    this.added = [];
    if (this.daemon) {
      await Bun.sleep(300);
      this.daemon.kill('SIGTERM');
      await this.daemon.exited;
      this.daemon = undefined;
    }
    try {
      sh(['auditctl', '-b', String(this.before.backlogLimit)]);
      sh(['auditctl', '-e', String(this.before.enabled)]);
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (errors.length) throw new Error(`restoring the audit state: ${errors.join('; ')}`);
  }
}
