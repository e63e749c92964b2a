/**
 * The documents provmon writes: ECS, one shape for Elasticsearch and the local store.
 * Pure TypeScript (shared by the sensor, the Kibana plugin and the graph engine): no Bun, Node or Kibana imports.
 *
 * Fields outside ECS live under `provmon.*` so they never clash with a future ECS field.
 * docs/events.md is the human version of this file (the event.action vocabulary in particular).
 */

/** Data streams are `logs-provmon.<dataset>-<namespace>`. */
export const DATASETS = ['process', 'file', 'network', 'flow', 'dns', 'health'] as const;
export type Dataset = (typeof DATASETS)[number];

export function dataStreamName(dataset: Dataset, namespace: string): string {
  return `logs-provmon.${dataset}-${namespace}`;
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
    dataset: `provmon.${Dataset}`;
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
  data_stream: { type: 'logs'; dataset: `provmon.${Dataset}`; namespace: string };
  process?: EcsProcess;
  user?: { id: string; name?: string };
  group?: { id: string; name?: string };
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
  };
  dns?: {
    type: 'query' | 'answer';
    /** the DNS message id as text: ECS types it keyword */
    id?: string;
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
      /** running totals: both directions, and each (docs/pcap.md) */
      total?: { bytes?: number; packets?: number; source?: { bytes: number; packets: number }; destination?: { bytes: number; packets: number } };
    };
    pcap?: { received: number; dropped: number; interface_dropped: number };
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
  events_per_s: Record<Exclude<Dataset, 'health'>, number>;
  events_total: Record<Exclude<Dataset, 'health'>, number>;
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
