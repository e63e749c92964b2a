/**
 * Audit records that are not syscalls → documents of dataset `audit`: what PAM, sudo, shadow-utils, systemd and the
 * kernel write about logins, sessions, commands run through sudo, account changes, services, the audit daemon
 * itself and policy violations. One document per record, ECS-categorised per record type (docs/audit.md has the
 * table). The record's own identity and the message's fields ECS has no place for go to provmon.audit.
 *
 * Whose account a record is about (ECS user.*): the account it names (acct=, else id=), else the process's uid=.
 * Account management (category iam) names the changed account in user.target.* (group.* for a group) and the
 * actor, the login user (auid=) or else uid=, in user.*. ENRICHED logs give the names (ID="alice", UID="root", AUID="alice").
 */
import { isIP } from 'node:net';
import { datasetName, EVENT_ACTIONS, type AuditRecordFields, type EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { untrusted, unquote } from './fields.ts';
import type { AuditRecord } from './record.ts';

type AuditAction = (typeof EVENT_ACTIONS)['audit'][number];

interface RecordKind {
  action: AuditAction;
  category: string[];
  type: string[];
  /** account management: the named account (user.target, or group for a group) is changed, the actor is the login user */
  iam?: 'user' | 'group';
}

const kind = (action: AuditAction, category: string[], type: string[], iam?: 'user' | 'group'): RecordKind => ({ action, category, type, ...(iam ? { iam } : {}) });
const AUTH = ['authentication'];
const SESSION = ['session'];
const LOGIN = ['authentication', 'session'];
const IAM = ['iam'];
const PROCESS = ['process'];
const HOST = ['host'];
const CONFIG = ['configuration'];
const MAC = ['intrusion_detection'];

/** Record type → ECS categorisation; types not listed stay counted as `not_syscall` without a document. */
export const RECORD_KINDS: Readonly<Record<string, RecordKind>> = {
  USER_AUTH: kind('authenticated', AUTH, ['info']),
  USER_ACCT: kind('was-authorized', AUTH, ['info']),
  USER_LOGIN: kind('logged-in', LOGIN, ['start']),
  USER_LOGOUT: kind('logged-out', LOGIN, ['end']),
  USER_START: kind('started-session', SESSION, ['start']),
  USER_END: kind('ended-session', SESSION, ['end']),
  CRED_ACQ: kind('acquired-credentials', AUTH, ['info']),
  CRED_DISP: kind('disposed-credentials', AUTH, ['info']),
  CRED_REFR: kind('refreshed-credentials', AUTH, ['info']),
  USER_ERR: kind('user-error', AUTH, ['info']),
  ANOM_LOGIN_FAILURES: kind('failed-login-too-many-times', AUTH, ['info']),
  USER_ROLE_CHANGE: kind('changed-role', IAM, ['user', 'change']),
  USER_CMD: kind('ran-command', PROCESS, ['start']),
  ADD_USER: kind('added-user-account', IAM, ['user', 'creation'], 'user'),
  DEL_USER: kind('deleted-user-account', IAM, ['user', 'deletion'], 'user'),
  ADD_GROUP: kind('added-group-account', IAM, ['group', 'creation'], 'group'),
  DEL_GROUP: kind('deleted-group-account', IAM, ['group', 'deletion'], 'group'),
  USER_MGMT: kind('modified-user-account', IAM, ['user', 'change'], 'user'),
  GRP_MGMT: kind('modified-group-account', IAM, ['group', 'change'], 'group'),
  USER_CHAUTHTOK: kind('changed-password', IAM, ['user', 'change'], 'user'),
  GRP_CHAUTHTOK: kind('changed-group-password', IAM, ['group', 'change'], 'group'),
  SERVICE_START: kind('started-service', PROCESS, ['start']),
  SERVICE_STOP: kind('stopped-service', PROCESS, ['end']),
  DAEMON_START: kind('started-audit', PROCESS, ['start']),
  DAEMON_END: kind('stopped-audit', PROCESS, ['end']),
  DAEMON_ABORT: kind('aborted-audit', PROCESS, ['end']),
  DAEMON_CONFIG: kind('changed-audit-configuration', CONFIG, ['change']),
  CONFIG_CHANGE: kind('changed-audit-configuration', CONFIG, ['change']),
  AVC: kind('violated-mac-policy', MAC, ['denied']),
  USER_AVC: kind('violated-mac-policy', MAC, ['denied']),
  ANOM_ABEND: kind('crashed-program', PROCESS, ['end']),
  ANOM_PROMISCUOUS: kind('changed-promiscuous-mode', HOST, ['change']),
  SYSTEM_BOOT: kind('booted-system', HOST, ['start']),
  SYSTEM_SHUTDOWN: kind('shutdown-system', HOST, ['end']),
  SYSTEM_RUNLEVEL: kind('changed-runlevel', HOST, ['change']),
};

/** auid/ses/id when never set */
const UNSET = '4294967295';

export interface UserEventContext {
  host: EcsEvent['host'];
  namespace: string;
  idPrefix: string;
  /** process.* of the record's pid, entered into the converter's process table so ids match its syscall documents */
  process(pid: number, atMs: number, exe: string | undefined, comm: string | undefined): EcsEvent['process'];
}

/** What a kernel record (CONFIG_CHANGE, AVC) may take from the SYSCALL record of its event when it lacks it. */
const FROM_SYSCALL = ['pid', 'exe', 'comm', 'uid'] as const;

/**
 * The document of one record, or undefined when its type has none. `index` tells records of one event apart;
 * `syscall` is the event's SYSCALL record, if any (the process that changed the audit rules, or hit the AVC).
 */
export function userEventDocument(record: AuditRecord, index: number, ctx: UserEventContext, syscall?: AuditRecord): EcsEvent | undefined {
  const k = RECORD_KINDS[record.type];
  if (!k) return undefined;
  let f = record.fields;
  let e = record.enriched ?? {};
  if (syscall) {
    const missing = FROM_SYSCALL.filter((key) => f[key] === undefined && syscall.fields[key] !== undefined);
    if (missing.length) {
      f = { ...f, ...Object.fromEntries(missing.map((key) => [key, syscall.fields[key]!])) };
      if (missing.includes('uid') && syscall.enriched?.UID !== undefined) e = { ...e, UID: syscall.enriched.UID };
    }
  }
  const verdict = macVerdict(record.type, f);
  const outcome = verdict?.outcome ?? outcomeOf(f.res ?? f.success);
  const dataset = datasetName('audit');
  const doc: EcsEvent = {
    '@timestamp': new Date(record.timeMs).toISOString(),
    event: {
      kind: 'event',
      category: k.category,
      type: verdict ? [verdict.type] : k.type,
      action: k.action,
      ...(outcome ? { outcome } : {}),
      dataset,
      module: 'provmon',
      id: `${ctx.idPrefix}-a${record.timeMs.toString(36)}-${record.serial.toString(36)}-u${index.toString(36)}`,
      sequence: record.serial,
    },
    host: ctx.host,
    data_stream: { type: 'logs', dataset, namespace: ctx.namespace },
  };
  const pid = Number(f.pid);
  if (Number.isInteger(pid) && pid > 0) {
    const process = ctx.process(pid, record.timeMs, untrusted(f.exe), untrusted(f.comm));
    if (process) doc.process = process;
  }
  const named = account(unsetToUndefined(f.id), untrusted(f.acct), e.ID);
  const own = account(unsetToUndefined(f.uid), undefined, e.UID);
  if (k.iam) {
    const actor = unsetToUndefined(f.auid) === undefined ? own : account(f.auid, undefined, e.AUID);
    if (k.iam === 'group') {
      if (actor) doc.user = actor;
      if (named) doc.group = named;
    } else if (actor || named) doc.user = { ...actor, ...(named ? { target: named } : {}) };
  } else {
    const user = named ?? own;
    if (user) doc.user = user;
  }
  const source = sourceOf(unquote(f.addr), unquote(f.hostname));
  if (source) doc.source = source;
  doc.provmon = { audit: auditFields(record, f) };
  return doc;
}

function unsetToUndefined(value: string | undefined): string | undefined {
  const v = unquote(value);
  return v === undefined || v === UNSET || v === '-1' || !/^\d+$/.test(v) ? undefined : v;
}

/** user.{id,name} from a numeric id, an account name and the ENRICHED name of the id; undefined when none is known. */
function account(id: string | undefined, name: string | undefined, enrichedName: string | undefined): { id?: string; name?: string } | undefined {
  const resolved = name ?? (id !== undefined ? known(unquote(enrichedName)) : undefined);
  if (id === undefined && resolved === undefined) return undefined;
  return { ...(id !== undefined ? { id } : {}), ...(resolved !== undefined ? { name: resolved } : {}) };
}

/** ENRICHED writes unknown-user for an id with no name (and unset for 4294967295): no name then. */
function known(name: string | undefined): string | undefined {
  return name === undefined || name === '' || name === 'unset' || name.startsWith('unknown(') || name === 'unknown' ? undefined : name;
}

function outcomeOf(res: string | undefined): 'success' | 'failure' | undefined {
  const v = unquote(res)?.toLowerCase();
  if (v === 'success' || v === 'yes' || v === '1') return 'success';
  if (v === 'failed' || v === 'failure' || v === 'fail' || v === 'no' || v === '0') return 'failure';
  return undefined;
}

/**
 * AppArmor writes apparmor="DENIED"/"ALLOWED" (complain mode)/"AUDIT"/"STATUS"; SELinux the verdict word after
 * "avc:", which the record parser keeps as seresult, and permissive=1 when the access went through anyway.
 */
function macVerdict(type: string, f: Record<string, string>): { type: 'denied' | 'allowed' | 'info'; outcome?: 'success' | 'failure' } | undefined {
  if (type !== 'AVC' && type !== 'USER_AVC') return undefined;
  const apparmor = unquote(f.apparmor)?.toUpperCase();
  if (apparmor !== undefined) {
    if (apparmor === 'DENIED') return { type: 'denied', outcome: 'failure' };
    if (apparmor === 'ALLOWED') return { type: 'allowed', outcome: 'success' };
    return { type: 'info' };
  }
  const verdict = f.seresult;
  if (verdict === 'denied') return f.permissive === '1' ? { type: 'allowed', outcome: 'success' } : { type: 'denied', outcome: 'failure' };
  if (verdict === 'granted') return { type: 'allowed', outcome: 'success' };
  return { type: 'info' };
}

/** addr= is the peer's address; hostname= its name (or the address again), `?` when there is none. */
function sourceOf(addr: string | undefined, hostname: string | undefined): EcsEvent['source'] {
  if (hostname === '?') hostname = undefined;
  const ip = addr !== undefined && isIP(addr) ? addr : hostname !== undefined && isIP(hostname) ? hostname : undefined;
  const domain = hostname !== undefined && !isIP(hostname) ? hostname : undefined;
  if (ip === undefined && domain === undefined) return undefined;
  return { ...(ip !== undefined ? { ip, address: ip } : {}), ...(domain !== undefined ? { domain } : {}) };
}

function auditFields(record: AuditRecord, f: Record<string, string>): AuditRecordFields {
  const out: AuditRecordFields = { serial: record.serial, type: record.type };
  const auid = unsetToUndefined(f.auid);
  if (auid !== undefined) {
    out.auid = auid;
    const name = known(unquote(record.enriched?.AUID));
    if (name !== undefined) out.auid_name = name;
  }
  const ses = unsetToUndefined(f.ses);
  if (ses !== undefined) out.session = ses;
  // acct/exe/cmd/cwd are "untrusted" strings (quoted, or hex when they hold spaces); op, terminal, unit… are bare
  const text = (key: string, decode: (v: string | undefined) => string | undefined = unquote): string | undefined => {
    const v = decode(f[key]);
    return v === undefined || v === '' || v === '?' || v === '(none)' || v === '(null)' ? undefined : v;
  };
  const op = text('op') ?? (record.type === 'AVC' ? text('operation') : undefined);
  if (op !== undefined) out.op = op;
  const res = unquote(f.res);
  if (res !== undefined) out.result = res;
  const terminal = text('terminal');
  if (terminal !== undefined) out.terminal = terminal;
  const grantors = text('grantors');
  if (grantors !== undefined) out.grantors = grantors.split(',');
  const unit = text('unit');
  if (unit !== undefined) out.unit = unit;
  const command = text('cmd', untrusted);
  if (command !== undefined) out.command = command;
  const cwd = text('cwd', untrusted);
  if (cwd !== undefined) out.cwd = cwd;
  const key = text('key');
  if (key !== undefined) out.key = key;
  return out;
}
