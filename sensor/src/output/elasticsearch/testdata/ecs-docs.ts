/**
 * Realistic provmon documents built per kibana-plugin/common/ecs.ts and docs/events.md, for the Elasticsearch
 * tests and the bench (the capture path feeds the output in production).
 */
import { createHash } from 'node:crypto';
import type { Dataset, EcsEvent } from '../../../../../kibana-plugin/common/ecs.ts';

type DeepRequired<T> = T extends (infer U)[] ? DeepRequired<U>[] : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;

/** One document carrying every field of EcsEvent: the compiler makes sure none is missing when ecs.ts grows. */
export const KITCHEN_SINK: DeepRequired<EcsEvent> = {
  '@timestamp': '2026-11-24T10:00:00.123Z',
  event: {
    kind: 'event',
    category: ['network'],
    type: ['connection', 'end'],
    action: 'network_flow',
    outcome: 'success',
    dataset: 'provmon.flow',
    module: 'provmon',
    id: 'kitchen-sink-1',
    sequence: 42,
    start: '2026-11-24T09:59:58.000Z',
    end: '2026-11-24T10:00:00.000Z',
    duration: 2_000_000_000,
  },
  host: {
    name: 'sensor-1',
    id: '0123456789abcdef0123456789abcdef',
    hostname: 'sensor-1.example.internal',
    os: { type: 'linux', family: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', full: 'Debian GNU/Linux 12 (bookworm)', platform: 'debian', kernel: '6.18.44' },
    architecture: 'x86_64',
  },
  data_stream: { type: 'logs', dataset: 'provmon.flow', namespace: 'default' },
  process: {
    pid: 4242,
    entity_id: 'ZW50aXR5LTQyNDI',
    name: 'curl',
    executable: '/usr/bin/curl',
    args: ['curl', '-s', 'https://example.com/'],
    args_count: 3,
    command_line: 'curl -s https://example.com/',
    start: '2026-11-24T09:59:57.000Z',
    parent: { pid: 4000, entity_id: 'ZW50aXR5LTQwMDA', name: 'bash', executable: '/usr/bin/bash', args: ['bash'], args_count: 1, command_line: 'bash', start: '2026-11-24T09:00:00.000Z' },
    end: '2026-11-24T10:00:00.100Z',
    exit_code: 0,
    working_directory: '/home/alice',
    interactive: true,
    tty: { char_device: { major: 136, minor: 0 } },
    thread: { id: 4242 },
  },
  user: { id: '1000', name: 'alice', target: { id: '1001', name: 'bob' } },
  group: { id: '1000', name: 'alice' },
  file: { path: '/etc/hosts', name: 'hosts', directory: '/etc', mode: '0644', inode: '131090', type: 'file' },
  source: { ip: '10.0.0.5', port: 51514, address: '10.0.0.5', domain: 'sensor-1.example.internal', bytes: 812, packets: 9 },
  destination: { ip: '93.184.215.14', port: 443, address: '93.184.215.14', domain: 'example.com', bytes: 5230, packets: 8 },
  network: {
    transport: 'tcp',
    type: 'ipv4',
    direction: 'outbound',
    bytes: 6042,
    packets: 17,
    community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    iana_number: '6',
    protocol: 'tls',
    vlan: { id: '10' },
  },
  related: { ip: ['10.0.0.5', '93.184.215.14'], hosts: ['example.com'] },
  dns: {
    type: 'answer',
    id: '4711',
    op_code: 'QUERY',
    question: { name: 'www.example.com', type: 'A', class: 'IN', registered_domain: 'example.com' },
    answers: [{ name: 'www.example.com', type: 'A', class: 'IN', ttl: 300, data: '93.184.215.14' }],
    resolved_ip: ['93.184.215.14'],
    response_code: 'NOERROR',
    header_flags: ['RD', 'RA'],
  },
  error: { code: 'ENOENT', message: 'No such file or directory' },
  provmon: {
    syscall: 'connect',
    io: { count: 3, bytes: 900 },
    count: 4,
    open: { flags: ['O_RDONLY', 'O_CLOEXEC'] },
    file: { source_path: '/tmp/x.partial' },
    previous_user_id: '0',
    fd: 5,
    exec: { filename: '/home/alice/run.sh', args: ['run.sh', '--now'] },
    io_reason: 'close',
    exit_signal: 9,
    core_dumped: false,
    fork_via: 'clone3',
    setid: { syscall: 'setresuid', ids: [0, 0, 0] },
    dns: { unanswered: true },
    escaped_fields: ['file.path'],
    cgroup_id: '4026531835',
    truncated: ['path'],
    channel: { kind: 'pipe', id: '4242' },
    flow: {
      final: true,
      state: 'closed',
      history: 'ShADadFf',
      tcp_flags: ['SYN', 'ACK', 'FIN'],
      dns_resolved: true,
      id: 'f-1',
      sequence: 0,
      end_reason: 'fin',
      icmp: { type: 8, code: 0 },
      total: { bytes: 2048, packets: 12, source: { bytes: 800, packets: 6 }, destination: { bytes: 1248, packets: 6 } },
    },
    pcap: { received: 10, dropped: 0, interface_dropped: 0 },
    responder_process: { pid: 812, entity_id: 'ZW50aXR5LTgxMg', name: 'nginx', executable: '/usr/sbin/nginx', args: ['nginx'], args_count: 1, command_line: 'nginx', start: '2026-11-24T08:00:00.000Z' },
    attribution: { method: 'connect_destination', confidence: 0.9, evidence: { event_id: 'sensor-1-a1-2-c', at: '2026-11-24T09:59:58.000Z', action: 'connection_attempted' }, alternatives: ['ZW50aXR5LTQyNDM'] },
    audit: {
      serial: 4711,
      type: 'USER_CMD',
      syscall: 'connect',
      key: 'pm_net',
      auid: '1000',
      auid_name: 'alice',
      session: '3',
      op: 'PAM:authentication',
      result: 'success',
      terminal: 'pts/0',
      grantors: ['pam_unix'],
      unit: 'ssh',
      command: 'systemctl restart nginx',
      cwd: '/home/alice',
    },
    health: {
      uptime_s: 120,
      interval_s: 5,
      events_per_s: { process: 3, file: 250, network: 12, flow: 1, dns: 2 },
      events_total: { process: 360, file: 30000, network: 1440, flow: 120, dns: 240 },
      ring: { dropped: 7, dropped_by_class: { critical: 0, net: 0, high: 2, low: 5 }, lost: 0, pending_bytes: 4096 },
      queue: { bytes: 65536, full_waits: 1 },
      pcap: { received: 9000, dropped: 3, interface_dropped: 0 },
      output: { name: 'elasticsearch', spool_bytes: 1048576, dropped: 0, counters: { indexed: 32160, retries: 2 } },
      rss_bytes: 180_000_000,
      features: { iter: 'tracepoint-flush' },
      fallbacks: ['iter'],
      capture: { ebpf: true, pcap: true },
    },
  },
  agent: { type: 'provmon', version: '0.1.0', name: 'web-1', id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', ephemeral_id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' },
};

export interface DocOptions {
  /** Prefix of event.id, so runs never collide. */
  run: string;
  namespace?: string;
  hostName?: string;
  /** Epoch ms of the first event. */
  start?: number;
}

const entity = (host: string, pid: number): string => createHash('sha256').update(`${host}:${pid}:1234`).digest('base64url').slice(0, 22);

/** The i-th document of a realistic mix: process, file, network, flow and dns events in capture proportions. */
export function realisticDoc(i: number, o: DocOptions): EcsEvent {
  const ns = o.namespace ?? 'default';
  const host = o.hostName ?? 'sensor-1';
  const at = (o.start ?? Date.parse('2026-11-24T10:00:00Z')) + i;
  const ts = new Date(at).toISOString();
  const pid = 2000 + (i % 300);
  const proc = {
    pid,
    entity_id: entity(host, pid),
    name: 'python3',
    executable: '/usr/bin/python3.12',
    args: ['python3', '/opt/app/worker.py', `--shard=${i % 7}`],
    args_count: 3,
    start: '2026-11-24T09:00:00.000Z',
    parent: { pid: 1, entity_id: entity(host, 1), name: 'systemd', executable: '/usr/lib/systemd/systemd' },
  };
  const base = (dataset: Dataset) => ({
    '@timestamp': ts,
    host: { name: host, id: '0123456789abcdef0123456789abcdef' },
    data_stream: { type: 'logs' as const, dataset: `provmon.${dataset}` as const, namespace: ns },
  });
  const id = `${o.run}-${i}`;
  const kind = i % 10;
  if (kind < 2) {
    const action = (['fork', 'exec', 'end'] as const)[i % 3]!;
    return {
      ...base('process'),
      event: { kind: 'event', category: ['process'], type: [action === 'end' ? 'end' : 'start'], action, outcome: 'success', dataset: 'provmon.process', module: 'provmon', id, sequence: i },
      process: { ...proc, ...(action === 'end' ? { end: ts, exit_code: 0 } : {}) },
      user: { id: '1000' },
      group: { id: '1000' },
      provmon: { syscall: action === 'exec' ? 'execve' : action === 'fork' ? 'clone' : 'exit_group' },
    };
  }
  if (kind < 6) {
    const action = (['open', 'read', 'write', 'deletion'] as const)[i % 4]!;
    const path = `/var/lib/app/data/${i % 500}.db`;
    return {
      ...base('file'),
      event: {
        kind: 'event',
        category: ['file'],
        type: [action === 'write' ? 'change' : action === 'deletion' ? 'deletion' : 'access'],
        action,
        outcome: i % 53 === 0 ? 'failure' : 'success',
        dataset: 'provmon.file',
        module: 'provmon',
        id,
        sequence: i,
      },
      process: proc,
      user: { id: '1000' },
      group: { id: '1000' },
      file: { path, name: `${i % 500}.db`, directory: '/var/lib/app/data' },
      ...(i % 53 === 0 ? { error: { code: 'ENOENT' } } : {}),
      provmon: { syscall: action === 'open' ? 'openat' : action === 'deletion' ? 'unlinkat' : action, fd: 3 + (i % 20), ...(action === 'read' || action === 'write' ? { io: { count: 4, bytes: 16384 } } : {}) },
    };
  }
  if (kind < 8) {
    const action = (['connection_attempted', 'send', 'receive', 'disconnect_received'] as const)[i % 4]!;
    return {
      ...base('network'),
      event: {
        kind: 'event',
        category: ['network'],
        type: [action === 'connection_attempted' ? 'start' : action === 'disconnect_received' ? 'end' : 'connection'],
        action,
        outcome: 'success',
        dataset: 'provmon.network',
        module: 'provmon',
        id,
        sequence: i,
      },
      process: proc,
      user: { id: '1000' },
      group: { id: '1000' },
      source: { ip: '10.0.0.5', port: 40000 + (i % 2000) },
      destination: { ip: `10.1.${i % 4}.${10 + (i % 40)}`, port: 5432 },
      network: { transport: 'tcp', type: 'ipv4', direction: 'egress' },
      provmon: { syscall: action === 'connection_attempted' ? 'connect' : action === 'disconnect_received' ? 'close' : action === 'send' ? 'sendto' : 'recvfrom', fd: 7, ...(action === 'send' || action === 'receive' ? { io: { count: 2, bytes: 700 } } : {}) },
    };
  }
  if (kind < 9) {
    const final = i % 3 === 0;
    return {
      ...base('flow'),
      event: {
        kind: 'event',
        category: ['network'],
        type: final ? ['connection', 'end'] : ['connection'],
        action: 'network_flow',
        dataset: 'provmon.flow',
        module: 'provmon',
        id,
        sequence: i,
        start: new Date(at - 2000).toISOString(),
        end: ts,
        duration: 2_000_000_000,
      },
      source: { ip: '10.0.0.5', port: 50000 + (i % 1000), bytes: 800, packets: 8 },
      destination: { ip: '93.184.215.14', port: 443, bytes: 5200, packets: 7, ...(i % 2 === 0 ? { domain: 'example.com' } : {}) },
      network: { transport: 'tcp', type: 'ipv4', iana_number: '6', bytes: 6000, packets: 15, community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=' },
      provmon: { flow: { final, state: final ? 'closed' : 'established', history: 'ShADad', tcp_flags: ['SYN', 'ACK'] } },
    };
  }
  return {
    ...base('dns'),
    event: { kind: 'event', category: ['network'], type: ['protocol'], action: 'lookup_result', outcome: 'success', dataset: 'provmon.dns', module: 'provmon', id, sequence: i },
    source: { ip: '10.0.0.53', port: 53 },
    destination: { ip: '10.0.0.5', port: 40000 + (i % 2000) },
    network: { transport: 'udp', type: 'ipv4', protocol: 'dns', iana_number: '17' },
    dns: {
      type: 'answer',
      id: String(i % 65536),
      question: { name: `host${i % 50}.example.com`, type: 'A', class: 'IN', registered_domain: 'example.com' },
      answers: [{ name: `host${i % 50}.example.com`, type: 'A', class: 'IN', ttl: 60, data: `93.184.215.${i % 50}` }],
      resolved_ip: [`93.184.215.${i % 50}`],
      response_code: 'NOERROR',
      header_flags: ['RD', 'RA'],
    },
  };
}

export function realisticDocs(n: number, o: DocOptions): EcsEvent[] {
  return Array.from({ length: n }, (_, i) => realisticDoc(i, o));
}
