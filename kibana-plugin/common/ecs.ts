/**
 * The documents provmon writes: ECS, one shape for Elasticsearch and the local store.
 * Pure TypeScript (shared by the sensor, the Kibana plugin and the graph engine): no Bun, Node or Kibana imports.
 *
 * Fields outside ECS live under `provmon.*` so they never clash with a future ECS field.
 * docs/events.md is the human version of this file (the event.action vocabulary in particular).
 */

/**
 * Data streams are `logs-provmon.<dataset>-<namespace>`. `audit` holds the records of a Linux audit log that are not
 * syscalls (logins, sudo, account changes, services: docs/audit.md); only `provmon analyze` writes it.
 */
export const DATASETS = ['process', 'file', 'network', 'flow', 'dns', 'health', 'audit'] as const;
export type Dataset = (typeof DATASETS)[number];
/** The datasets a live sensor captures and counts in its health documents. */
export type CaptureDataset = Exclude<Dataset, 'health' | 'audit'>;

/** event.dataset / data_stream.dataset of a dataset: `provmon.<dataset>`. */
export type DatasetName = `provmon.${Dataset}`;

export function datasetName<D extends Dataset>(dataset: D): `provmon.${D}` {
  return `provmon.${dataset}`;
}

/** The dataset of an event.dataset value; undefined for a name that is not provmon's. */
export function datasetOf(name: string): Dataset | undefined {
  const short = name.startsWith('provmon.') ? name.slice('provmon.'.length) : '';
  return (DATASETS as readonly string[]).includes(short) ? (short as Dataset) : undefined;
}

export function dataStreamName(dataset: Dataset, namespace: string): string {
  return `logs-${datasetName(dataset)}-${namespace}`;
}

/**
 * `event.action` values, by dataset. Verbs follow Elastic Defend's Linux vocabulary where one exists
 * (fork/exec/end, creation/deletion/rename, connection_attempted/connection_accepted) so detection
 * rules written for Defend read naturally here.
 */
export const EVENT_ACTIONS = {
  process: [
    'fork', // clone/clone3/fork/vfork: a new process (thread creation is not reported)
    'exec', // execve/execveat: the process image changed; process.* describes the new image
    'end', // the process exited; process.exit_code and process.end are set
    'already_running', // event.kind=state: seen in /proc when the sensor started
    'uid_change', // setuid family: user.* is the new identity, provmon.previous_user_id the old one
    'gid_change',
  ],
  file: [
    'open', // openat/openat2 (and creat): file.path resolved; provmon.open.flags
    'creation', // an open with O_CREAT that created the file
    'read', // aggregated reads on one fd, emitted on close/exit/flush: provmon.io.{count,bytes}
    'write', // aggregated writes on one fd, same aggregation
    'deletion', // unlink/unlinkat (not directories)
    'rename', // rename/renameat/renameat2: file.path is the new path, provmon.file.source_path the old
    'permission_change', // chmod/fchmodat: file.mode is the new octal mode
  ],
  network: [
    'socket', // socket(): network.transport/type only
    'bind',
    'listen',
    'connection_attempted', // connect(): destination.* is the peer
    'connection_accepted', // accept/accept4: source.* is the peer, destination.* the local end
    'send', // aggregated write/sendto on a socket fd: provmon.io.{count,bytes}
    'receive', // aggregated read/recvfrom on a socket fd
    'disconnect_received', // close() of a connected socket fd (Defend's name for it)
  ],
  flow: ['network_flow'],
  dns: ['lookup_result', 'lookup_requested'],
  health: ['sensor_health'], // event.kind=metric: the sensor's own state every stats interval (docs/health.md)
  // Audit records that are not syscalls (docs/audit.md has the record type → action table). The names are the ones
  // Elastic's auditd integrations give these records, so rules written for those read naturally here.
  audit: [
    'authenticated', // USER_AUTH (PAM authentication)
    'was-authorized', // USER_ACCT (PAM account check)
    'logged-in', // USER_LOGIN
    'logged-out', // USER_LOGOUT
    'started-session', // USER_START
    'ended-session', // USER_END
    'acquired-credentials', // CRED_ACQ
    'disposed-credentials', // CRED_DISP
    'refreshed-credentials', // CRED_REFR
    'changed-role', // USER_ROLE_CHANGE
    'user-error', // USER_ERR
    'ran-command', // USER_CMD (sudo)
    'added-user-account', // ADD_USER
    'deleted-user-account', // DEL_USER
    'added-group-account', // ADD_GROUP
    'deleted-group-account', // DEL_GROUP
    'modified-user-account', // USER_MGMT
    'modified-group-account', // GRP_MGMT
    'changed-password', // USER_CHAUTHTOK
    'changed-group-password', // GRP_CHAUTHTOK
    'started-service', // SERVICE_START
    'stopped-service', // SERVICE_STOP
    'started-audit', // DAEMON_START
    'stopped-audit', // DAEMON_END
    'aborted-audit', // DAEMON_ABORT
    'changed-audit-configuration', // CONFIG_CHANGE, DAEMON_CONFIG
    'violated-mac-policy', // AVC (SELinux, AppArmor), USER_AVC
    'crashed-program', // ANOM_ABEND
    'changed-promiscuous-mode', // ANOM_PROMISCUOUS
    'failed-login-too-many-times', // ANOM_LOGIN_FAILURES
    'booted-system', // SYSTEM_BOOT
    'shutdown-system', // SYSTEM_SHUTDOWN
    'changed-runlevel', // SYSTEM_RUNLEVEL
  ],
} as const satisfies Record<Dataset, readonly string[]>;

export type EventAction = (typeof EVENT_ACTIONS)[Dataset][number];

export interface EcsProcessRef {
  pid: number;
  /** hash of host.id, pid and start time: stable across sensor restarts, never reused. */
  entity_id: string;
  name?: string;
  executable?: string;
  args?: string[];
  args_count?: number;
  /** args joined with spaces, as Elastic Defend writes it on Linux */
  command_line?: string;
  start?: string;
}

export interface EcsProcess extends EcsProcessRef {
  parent?: EcsProcessRef;
  end?: string;
  exit_code?: number;
  working_directory?: string;
  /** true when the process has a controlling terminal */
  interactive?: boolean;
  tty?: { char_device: { major: number; minor: number } };
  thread?: { id: number };
}

export interface EcsEndpoint {
  ip?: string;
  port?: number;
  address?: string;
  domain?: string;
  bytes?: number;
  packets?: number;
}

export interface EcsEvent {
  '@timestamp': string;
  event: {
    kind: 'event' | 'state' | 'metric';
    category: string[];
    type: string[];
    action: EventAction;
    outcome?: 'success' | 'failure' | 'unknown';
    dataset: DatasetName;
    module: 'provmon';
    /** Deterministic id of this document; also its Elasticsearch `_id` (replays are idempotent). */
    id: string;
    /** Per-host order in which the sensor observed events: breaks ties within one millisecond. */
    sequence?: number;
    start?: string;
    end?: string;
    /** nanoseconds */
    duration?: number;
  };
  host: {
    name: string;
    id: string;
    hostname?: string;
    os?: { type: 'linux'; family: string; name: string; version?: string; full?: string; platform: string; kernel: string };
    architecture?: string;
  };
  /** The sensor that wrote the document (health documents): ECS agent.* */
  agent?: { type: 'provmon'; version: string; name: string; id: string; ephemeral_id?: string };
  data_stream: { type: 'logs'; dataset: DatasetName; namespace: string };
  process?: EcsProcess;
  user?: {
    /** absent when only the name is known (an audit record naming an account by acct=) */
    id?: string;
    name?: string;
    /** account management (dataset audit, category iam): the account that was added, changed or deleted */
    target?: { id?: string; name?: string };
  };
  /** on account management of a group (dataset audit, iam): the group added, changed or deleted, as user.target */
  group?: { id?: string; name?: string };
  file?: { path: string; name?: string; directory?: string; mode?: string; inode?: string; type?: string };
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  network?: {
    transport?: string;
    type?: 'ipv4' | 'ipv6' | 'unix';
    direction?: string;
    bytes?: number;
    packets?: number;
    community_id?: string;
    iana_number?: string;
    protocol?: string;
    /** the 802.1Q tag of a flow's packets */
    vlan?: { id: string };
  };
  /** flows and DNS: every address and name the document mentions (ECS related.*) */
  related?: { ip?: string[]; hosts?: string[] };
  dns?: {
    type: 'query' | 'answer';
    /** the DNS message id as text: ECS types it keyword */
    id?: string;
    op_code?: string;
    question?: { name: string; type?: string; class?: string; registered_domain?: string };
    answers?: { name: string; type: string; class?: string; ttl?: number; data: string }[];
    resolved_ip?: string[];
    response_code?: string;
    header_flags?: string[];
  };
  error?: { code: string; message?: string };
  provmon?: {
    syscall?: string;
    /** Aggregated read/write/send/receive on one fd. */
    io?: { count: number; bytes: number };
    /** How many syscalls this one document stands for when repeated identical accesses were folded (absent: 1). */
    count?: number;
    open?: { flags: string[] };
    file?: { source_path?: string };
    previous_user_id?: string;
    fd?: number;
    /** why an aggregated read/write was reported: close, exit, interval (flush), fold */
    io_reason?: string;
    /** end: the signal that ended the process (0: none) and whether it dumped core */
    exit_signal?: number;
    core_dumped?: boolean;
    /** fork: the syscall that made the process (clone, clone3, fork, vfork) */
    fork_via?: string;
    /** uid_change/gid_change: the setid syscall and the ids it was given */
    setid?: { syscall: string; ids: number[] };
    /** exec: the file executed when it is not process.executable (a script), or the arguments of a failed exec */
    exec?: { filename?: string; args?: string[] };
    /** a DNS query that got no answer before the capture (or the flow) ended */
    dns?: { unanswered?: boolean };
    /** fields holding a name that was not valid UTF-8, escaped reversibly (docs/events.md, escaped-names.ts) */
    escaped_fields?: string[];
    cgroup_id?: string;
    /** What the kernel could not copy whole: path, args, arg, executable, unreadable. */
    truncated?: string[];
    /**
     * reads/writes on a pipe or a unix-socket connection: the identity both ends share (a pipe's inode; for a unix
     * connection, a per-sensor-run hash of its two kernel sockets). file.path is pipe:[id] or unix-socket:[id].
     */
    channel?: { kind: 'pipe' | 'unix_socket'; id: string };
    /** Flow reports: see docs/pcap.md for the delta/cumulative decision. */
    flow?: {
      final: boolean;
      state?: string;
      history?: string;
      tcp_flags?: string[];
      dns_resolved?: boolean;
      id?: string;
      sequence?: number;
      end_reason?: string;
      /** ICMP flows: type and code of the first packet */
      icmp?: { type: number; code: number };
      /** running totals: both directions, and each (docs/pcap.md) */
      total?: { bytes?: number; packets?: number; source?: { bytes: number; packets: number }; destination?: { bytes: number; packets: number } };
    };
    pcap?: { received: number; dropped: number; interface_dropped: number };
    /** Flows on a local connection: the process at the responding end (the initiator's is process.*). */
    responder_process?: EcsProcessRef;
    /** Flows of `provmon analyze`: how the flow was attributed to process.* (docs/audit.md, correlate.ts). */
    attribution?: FlowAttribution;
    /** Documents made from a Linux audit log (`provmon analyze`): the audit record's own identity (docs/audit.md). */
    audit?: AuditRecordFields;
    /** Health documents (dataset health): see ../../sensor/src/run/health.ts and docs/health.md. */
    health?: SensorHealth;
    [extra: string]: unknown;
  };
}

/** The sensor's own state in a health document (`provmon.health`), one every stats interval. */
export interface SensorHealth {
  uptime_s: number;
  /** seconds the rates below are measured over */
  interval_s: number;
  /** documents per second by dataset over the interval, and since start */
  events_per_s: Record<CaptureDataset, number>;
  events_total: Record<CaptureDataset, number>;
  ring: {
    dropped: number;
    dropped_by_class: { critical: number; net: number; high: number; low: number };
    lost: number;
    pending_bytes: number;
  };
  queue: { bytes: number; full_waits: number };
  pcap: { received: number; dropped: number; interface_dropped: number };
  /** the output's counters (e.g. written, indexed, retries, spool_bytes, dropped) */
  output: { name: string; spool_bytes: number; dropped: number; counters: Record<string, number> };
  rss_bytes: number;
  /** optional kernel features: what is used for each (docs/ebpf.md), and those on a fallback */
  features: Record<string, string>;
  fallbacks: string[];
  capture: { ebpf: boolean; pcap: boolean };
}

/** provmon.attribution of a flow analysed offline: method, confidence (0..1) and the audit document it rests on. */
export interface FlowAttribution {
  method: string;
  confidence: number;
  evidence?: { event_id: string; at: string; action: string };
  /** other processes that matched as well (entity ids) */
  alternatives?: string[];
}

/**
 * provmon.audit: what an audit record says beyond ECS. On syscall documents: serial, syscall, key, auid, session.
 * On documents of dataset audit (records that are not syscalls) also the record type and the user-space message's
 * own fields: op, result (res= as written), terminal, PAM grantors, the systemd unit, sudo's command and cwd.
 */
export interface AuditRecordFields {
  serial: number;
  /** the record type as auditd names it: USER_LOGIN, USER_CMD, ... (dataset audit) */
  type?: string;
  syscall?: string;
  key?: string;
  /** the login uid (auid=) when set, and its name from an ENRICHED log */
  auid?: string;
  auid_name?: string;
  session?: string;
  op?: string;
  result?: string;
  terminal?: string;
  grantors?: string[];
  unit?: string;
  command?: string;
  cwd?: string;
}
