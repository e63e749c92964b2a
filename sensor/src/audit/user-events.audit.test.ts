/**
 * PAM, su, runuser and sudo writing their own records into a real auditd (Debian's, private config and log, the
 * audit state restored after): `provmon analyze` turns the log into documents of dataset audit that name the
 * account, the outcome and the program. Needs root, the kernel audit subsystem and no other audit daemon running.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ecsReport } from '../../../test/support/ecs-conformance.ts';
import { AuditSession } from '../analyze/testdata/audit-session.ts';

const root = resolve(import.meta.dir, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'provmon-audit-users-'));
chmodSync(dir, 0o755);
const caseDir = join(dir, 'case');
const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
let session: AuditSession | undefined;
const pids = { su: 0, runuser: 0, sudo: 0 };
let docs: EcsEvent[] = [];
let summary: { audit: { stats: { conversion: { audit_records: Record<string, number>; documents: number } } }; documents: Record<string, number> };
let text = '';

async function run(args: string[]): Promise<{ pid: number; code: number }> {
  const p = Bun.spawn(args, { env, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', cwd: dir });
  return { pid: p.pid, code: await p.exited };
}

beforeAll(async () => {
  // no syscall rules are needed: PAM and sudo send their records whenever auditing is enabled (uid 47117 is unused)
  session = new AuditSession(dir, 47117);
  await session.start();
  try {
    // nobody asks su for root: no terminal to type a password on, so PAM authentication fails
    const su = await run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'su', '-c', 'true', 'root']);
    expect(su.code).not.toBe(0);
    pids.su = su.pid;
    const runuser = await run(['runuser', '-u', 'nobody', '--', 'true']);
    expect(runuser.code).toBe(0);
    pids.runuser = runuser.pid;
    const sudo = await run(['sudo', '-n', '-u', 'nobody', 'true']);
    expect(sudo.code).toBe(0);
    pids.sudo = sudo.pid;
    await Bun.sleep(300);
  } finally {
    await session.stop();
    session = undefined;
  }
  const r = Bun.spawnSync([join(root, 'bin', 'provmon'), 'analyze', '--audit-log', join(dir, 'audit', 'audit.log'), '--events-dir', caseDir, '--json', '--log-level', 'warn'], { cwd: root });
  if (r.exitCode !== 0) throw new Error(`provmon analyze failed: ${r.stderr.toString()}`);
  summary = JSON.parse(r.stdout.toString());
  docs = readdirSync(caseDir)
    .filter((f) => f.startsWith('forensic-events') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(caseDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EcsEvent));
  const again = Bun.spawnSync([join(root, 'bin', 'provmon'), 'analyze', '--audit-log', join(dir, 'audit', 'audit.log'), '--events-dir', join(dir, 'case2'), '--log-level', 'warn'], { cwd: root });
  text = again.stdout.toString();
}, 60_000);

afterAll(async () => {
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const of = (pid: number, type: string) => docs.filter((d) => d.event.dataset === 'provmon.audit' && d.process?.pid === pid && d.provmon?.audit?.type === type);

describe('a real auditd log of su, runuser and sudo', () => {
  test('the failed su: authentication of root by /usr/bin/su, outcome failure, by uid nobody', () => {
    const [auth] = of(pids.su, 'USER_AUTH');
    expect(auth).toBeDefined();
    expect(auth!.event).toMatchObject({ category: ['authentication'], action: 'authenticated', outcome: 'failure' });
    expect(auth!.user).toEqual({ name: 'root' });
    expect(auth!.process).toMatchObject({ executable: '/usr/bin/su', name: 'su' });
    expect(auth!.provmon!.audit).toMatchObject({ op: 'PAM:authentication', result: 'failed' });
  });

  test('runuser: a session for nobody opened and closed by /usr/sbin/runuser, credentials acquired and disposed', () => {
    const [start] = of(pids.runuser, 'USER_START');
    const [end] = of(pids.runuser, 'USER_END');
    expect(start!.event).toMatchObject({ category: ['session'], type: ['start'], action: 'started-session', outcome: 'success' });
    expect(end!.event).toMatchObject({ type: ['end'], action: 'ended-session', outcome: 'success' });
    for (const d of [start!, end!, ...of(pids.runuser, 'CRED_ACQ'), ...of(pids.runuser, 'CRED_DISP')]) {
      expect(d.user!.name).toBe('nobody');
      expect(d.process!.executable).toBe('/usr/sbin/runuser');
      expect(d.process!.entity_id).toBe(start!.process!.entity_id);
    }
    expect(of(pids.runuser, 'CRED_ACQ')).toHaveLength(1);
  });

  test('sudo: the command it ran, by whom (root), as the account it opened a session for (nobody)', () => {
    const [cmd] = of(pids.sudo, 'USER_CMD');
    expect(cmd!.event).toMatchObject({ category: ['process'], type: ['start'], action: 'ran-command', outcome: 'success' });
    expect(cmd!.user).toEqual({ id: '0', name: 'root' });
    expect(cmd!.process!.executable).toBe('/usr/bin/sudo');
    expect(cmd!.provmon!.audit).toMatchObject({ command: 'true', cwd: dir });
    const [start] = of(pids.sudo, 'USER_START');
    expect(start!.user).toEqual({ name: 'nobody' });
    expect(of(pids.sudo, 'USER_ACCT')[0]!.event.action).toBe('was-authorized');
  });

  test('the audit daemon and rule changes of the session are there too; everything conforms to ECS; the summary counts them', () => {
    const audit = docs.filter((d) => d.event.dataset === 'provmon.audit');
    expect(audit.some((d) => d.event.action === 'started-audit')).toBe(true);
    const rules = audit.filter((d) => d.event.action === 'changed-audit-configuration' && d.provmon!.audit!.op === 'add_rule');
    expect(rules.map((d) => d.provmon!.audit!.key).sort()).toEqual(['pm_exec', 'pm_file', 'pm_net', 'pm_proc']);
    expect(rules.every((d) => d.process?.executable === '/usr/sbin/auditctl')).toBe(true);
    expect(ecsReport(audit)).toEqual({});
    const counted = Object.values(summary.audit.stats.conversion.audit_records).reduce((a, b) => a + b, 0);
    expect(counted).toBe(audit.length);
    expect(summary.documents.audit).toBe(audit.length);
    expect(text).toMatch(/logins, sudo, accounts, services… \(dataset audit\): .*USER_AUTH 1.*USER_CMD 1/);
  });
});
