/**
 * Audit records that are not syscalls, in the forms RHEL 7, RHEL 8/9, Ubuntu and Debian write them (RAW and
 * ENRICHED, node= prefixed, from the kernel log), become documents of dataset audit: who, what, from where, with
 * which outcome. Checked against the official ECS definitions and against the audit index template's mapping.
 */
import { describe, expect, test } from 'bun:test';
import { EVENT_ACTIONS, type EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ecsReport } from '../../../test/support/ecs-conformance.ts';
import { DATASET_GROUPS, FIELD_GROUPS, leafPaths, mergeProperties } from '../setup/assets/mappings.ts';
import { AuditLogReader, type AuditReadStats } from './reader.ts';
import { debianUserRecords, rhel7UserRecords, rhel9UserRecords, syslogUserRecord, ubuntuUserRecords } from './testdata/samples.ts';
import { RECORD_KINDS } from './user-events.ts';

const host = { id: 'b'.repeat(32), name: 'case-host', bootTimeMs: 0 };

async function parse(lines: string[]): Promise<{ docs: EcsEvent[]; stats: AuditReadStats }> {
  const docs: EcsEvent[] = [];
  const reader = new AuditLogReader({ host, namespace: 'case1', onDocument: (d) => docs.push(d) });
  await reader.read({ name: 'log', chunks: [new TextEncoder().encode(`${lines.join('\n')}\n`)] });
  return { docs, stats: reader.finish() };
}

const audit = (docs: EcsEvent[]) => docs.filter((d) => d.event.dataset === 'provmon.audit');
/** Audit documents by record type: a record sharing its event with a SYSCALL comes when that event closes, later. */
const byType = (docs: EcsEvent[]) => new Map(audit(docs).map((d) => [d.provmon!.audit!.type!, d]));

/** Leaf paths of a document (arrays of objects walk into their objects). */
function leaves(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => (typeof v === 'object' && v !== null ? leaves(v, prefix) : [prefix])))];
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  return [prefix];
}

describe('audit records that are not syscalls', () => {
  test('Debian (ENRICHED): sudo names the user, its command and cwd; a failed su; useradd and passwd name the changed account', async () => {
    const { docs, stats } = await parse(debianUserRecords());
    expect(docs.every((d) => d.event.dataset === 'provmon.audit' && d.data_stream.dataset === 'provmon.audit')).toBe(true);
    expect(stats.conversion.audit_records).toEqual({ USER_ACCT: 1, USER_CMD: 1, CRED_REFR: 1, USER_START: 1, USER_AUTH: 1, ADD_USER: 1, USER_CHAUTHTOK: 1, SERVICE_START: 1 });
    const [acct, cmd, , start, su, add, passwd, service] = docs;
    expect(cmd!.event).toMatchObject({ action: 'ran-command', category: ['process'], type: ['start'], outcome: 'success', sequence: 802 });
    expect(cmd!.user).toEqual({ id: '1000', name: 'alice' });
    expect(cmd!.process).toMatchObject({ pid: 5001, executable: '/usr/bin/sudo', name: 'sudo' });
    expect(cmd!.provmon!.audit).toEqual({ serial: 802, type: 'USER_CMD', auid: '1000', auid_name: 'alice', session: '7', result: 'success', terminal: 'pts/1', command: 'systemctl restart nginx', cwd: '/home/alice' });
    // every record of one sudo run is the same process
    expect(new Set([acct, cmd, start].map((d) => d!.process!.entity_id)).size).toBe(1);
    expect(acct!.event).toMatchObject({ action: 'was-authorized', category: ['authentication'], outcome: 'success' });
    expect(acct!.user).toEqual({ name: 'alice' });
    expect(start!.event).toMatchObject({ action: 'started-session', category: ['session'], type: ['start'] });
    expect(start!.user).toEqual({ name: 'root' });
    expect(start!.provmon!.audit!.grantors).toEqual(['pam_limits', 'pam_permit', 'pam_unix']);
    expect(su!.event).toMatchObject({ action: 'authenticated', outcome: 'failure' });
    expect(su!.user).toEqual({ name: 'root' });
    expect(su!.process!.executable).toBe('/usr/bin/su');
    expect(su!.provmon!.audit).toMatchObject({ op: 'PAM:authentication', result: 'failed', auid_name: 'bob' });
    expect(su!.source).toEqual({ domain: 'devbox' });
    expect(add!.event).toMatchObject({ action: 'added-user-account', category: ['iam'], type: ['user', 'creation'], outcome: 'success' });
    expect(add!.user).toEqual({ id: '1000', name: 'alice', target: { name: 'mallory' } });
    expect(passwd!.event.action).toBe('changed-password');
    expect(passwd!.user!.target).toEqual({ name: 'mallory' });
    expect(service!.event).toMatchObject({ action: 'started-service', category: ['process'], type: ['start'] });
    expect(service!.provmon!.audit!.unit).toBe('nginx');
    expect(service!.user).toEqual({ id: '0', name: 'root' });
    expect(service!.provmon!.audit!.auid).toBeUndefined();
  });

  test('Ubuntu (RAW): failed password and login from an address, a key login with its session, an AppArmor denial', async () => {
    const { docs } = await parse(ubuntuUserRecords());
    const [auth, failedLogin, login, session, avc] = docs;
    expect(auth!.event).toMatchObject({ action: 'authenticated', outcome: 'failure' });
    expect(auth!.user).toEqual({ name: 'admin' });
    expect(auth!.source).toEqual({ ip: '203.0.113.50', address: '203.0.113.50' });
    expect(failedLogin!.event).toMatchObject({ action: 'logged-in', category: ['authentication', 'session'], type: ['start'], outcome: 'failure' });
    expect(login!.event.outcome).toBe('success');
    expect(login!.user).toEqual({ id: '1000' });
    expect(login!.source).toEqual({ ip: '198.51.100.7', address: '198.51.100.7', domain: 'client.example.net' });
    expect(login!.process).toMatchObject({ pid: 6200, executable: '/usr/sbin/sshd' });
    expect(session!.process!.entity_id).toBe(login!.process!.entity_id);
    expect(session!.provmon!.audit).toMatchObject({ auid: '1000', session: '12', terminal: 'ssh' });
    expect(avc!.event).toMatchObject({ action: 'violated-mac-policy', category: ['intrusion_detection'], type: ['denied'], outcome: 'failure' });
    expect(avc!.process).toMatchObject({ pid: 6300, name: 'cupsd' });
    expect(avc!.provmon!.audit!.op).toBe('open');
  });

  test('RHEL 7 (RAW): an SELinux denial takes its process from the SYSCALL record of its event; a crash; auditd starting', async () => {
    const { docs, stats } = await parse(rhel7UserRecords());
    const types = byType(docs);
    expect([...types.keys()].sort()).toEqual(['ANOM_ABEND', 'AVC', 'DAEMON_START', 'USER_LOGIN']);
    expect(types.get('USER_LOGIN')!.source).toEqual({ ip: '10.0.0.9', address: '10.0.0.9' });
    const avc = types.get('AVC')!;
    expect(avc.event).toMatchObject({ type: ['denied'], outcome: 'failure' });
    expect(avc.process).toMatchObject({ pid: 7200, executable: '/usr/sbin/httpd' });
    expect(avc.user).toEqual({ id: '48' });
    expect(types.get('ANOM_ABEND')!.event).toMatchObject({ action: 'crashed-program', category: ['process'], type: ['end'], outcome: 'success' });
    expect(types.get('ANOM_ABEND')!.process!.executable).toBe('/home/alice/a.out');
    expect(types.get('DAEMON_START')!.event).toMatchObject({ action: 'started-audit', outcome: 'success' });
    // the open that was denied is not a document of its own (no open was made), and nothing is counted as skipped
    expect(stats.conversion.not_syscall).toEqual({});
  });

  test('RHEL 9 (node=, ENRICHED): sudo cat /etc/shadow, a group added, an audit rule added by auditctl, a logout', async () => {
    const { docs, stats } = await parse(rhel9UserRecords());
    expect(stats.nodes).toEqual(['db1']);
    const types = byType(docs);
    const [cmd, group, rule, logout] = ['USER_CMD', 'ADD_GROUP', 'CONFIG_CHANGE', 'USER_LOGOUT'].map((t) => types.get(t));
    expect(cmd!.provmon!.audit!.command).toBe('cat /etc/shadow');
    expect(cmd!.user).toEqual({ id: '1000', name: 'alice' });
    expect(group!.event).toMatchObject({ action: 'added-group-account', category: ['iam'], type: ['group', 'creation'] });
    expect(group!.group).toEqual({ name: 'backup' });
    expect(group!.user).toEqual({ id: '1000', name: 'alice' });
    expect(rule!.event).toMatchObject({ action: 'changed-audit-configuration', category: ['configuration'], type: ['change'], outcome: 'success' });
    expect(rule!.provmon!.audit).toMatchObject({ op: 'add_rule', key: 'watch_shadow', auid: '1000', auid_name: 'alice', result: '1' });
    expect(rule!.process).toMatchObject({ pid: 8300, executable: '/usr/sbin/auditctl' });
    expect(rule!.user).toEqual({ id: '0', name: 'root' });
    expect(logout!.event).toMatchObject({ action: 'logged-out', type: ['end'] });
    expect(logout!.user).toEqual({ id: '1000', name: 'alice' });
  });

  test('from the kernel log (numeric type 1112) with a hex-encoded account name', async () => {
    const { docs } = await parse(syslogUserRecord());
    expect(docs).toHaveLength(1);
    expect(docs[0]!.event).toMatchObject({ action: 'logged-in', outcome: 'failure' });
    expect(docs[0]!.user).toEqual({ name: 'bad user' });
    expect(docs[0]!.source!.ip).toBe('192.0.2.66');
  });

  test('every document conforms to ECS (@elastic/ecs) and every one of its fields is mapped by the audit index template', async () => {
    const { docs } = await parse([...debianUserRecords(), ...ubuntuUserRecords(), ...rhel7UserRecords(), ...rhel9UserRecords(), ...syslogUserRecord()]);
    const docsOfAudit = audit(docs);
    expect(docsOfAudit.length).toBe(8 + 5 + 4 + 4 + 1);
    expect(ecsReport(docsOfAudit)).toEqual({});
    const mapped = new Set(leafPaths(mergeProperties(...DATASET_GROUPS.audit.map((g) => FIELD_GROUPS[g]))));
    const unmapped = [...new Set(docsOfAudit.flatMap((d) => leaves(d)))].filter((p) => !mapped.has(p));
    expect(unmapped).toEqual([]);
  });

  test('every record type with a document has its action in the event.action vocabulary, and ids never repeat', async () => {
    const actions = new Set<string>(EVENT_ACTIONS.audit);
    for (const [type, kind] of Object.entries(RECORD_KINDS)) expect({ type, known: actions.has(kind.action) }).toEqual({ type, known: true });
    const { docs } = await parse([...debianUserRecords(), ...rhel9UserRecords()]);
    expect(new Set(docs.map((d) => d.event.id)).size).toBe(docs.length);
  });
});
