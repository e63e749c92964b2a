/**
 * ECS mappings for exactly the fields provmon writes (kibana-plugin/common/ecs.ts), plus the few that the ingest
 * pipelines add (event.ingested, tags, dns.question.subdomain/top_level_domain). Grouped like ECS field sets; each
 * dataset's index template composes the groups its documents carry (docs/events.md).
 *
 * Types follow ECS 9.4 with core types only: ECS `wildcard` (process.command_line) becomes `keyword` with a
 * `text` multi-field, `match_only_text` multi-fields become `text`, `constant_keyword` (data_stream.*) becomes `keyword`.
 * Objects are `dynamic: false`: a field that is not mapped here stays in _source but is not indexed, and never
 * makes Elasticsearch reject a document (strict mapping would turn a new sensor field into data loss).
 * The mapping test checks, field by field, that a document with every field of ecs.ts is fully mapped.
 */
import type { Dataset } from '../../../../kibana-plugin/common/ecs.ts';
import type { CoreProperties, CoreProperty } from './types.ts';

const keyword = { type: 'keyword', ignore_above: 1024 } as const satisfies CoreProperty;
/** keyword with a `.text` multi-field, ECS's pattern for paths, names and messages. */
const keywordText = { type: 'keyword', ignore_above: 1024, fields: { text: { type: 'text' } } } as const satisfies CoreProperty;
const long = { type: 'long' } as const satisfies CoreProperty;
const float = { type: 'float' } as const satisfies CoreProperty;
const date = { type: 'date' } as const satisfies CoreProperty;
const ip = { type: 'ip' } as const satisfies CoreProperty;
const bool = { type: 'boolean' } as const satisfies CoreProperty;

const obj = (properties: CoreProperties): CoreProperty => ({ type: 'object', properties });

/** Fields on every provmon event. */
export const baseFields = {
  '@timestamp': date,
  event: obj({
    kind: keyword,
    category: keyword,
    type: keyword,
    action: keyword,
    outcome: keyword,
    dataset: keyword,
    module: keyword,
    id: keyword,
    sequence: long,
    start: date,
    end: date,
    duration: long,
    /** set by the ingest pipelines */
    ingested: date,
  }),
  host: obj({
    name: keyword,
    id: keyword,
    hostname: keyword,
    os: obj({ type: keyword, family: keyword, name: keywordText, version: keyword, full: keywordText, platform: keyword, kernel: keyword }),
    architecture: keyword,
  }),
  data_stream: obj({ type: keyword, dataset: keyword, namespace: keyword }),
  error: obj({ code: keyword, message: { type: 'text' } }),
  /** added by the pipelines' guards and failure handlers (provmon_pipeline_error, provmon_ecs_categorization_mismatch…) */
  tags: keyword,
  provmon: {
    type: 'object',
    dynamic: false,
    /** count: syscalls one document stands for when the kernel folded repeated identical accesses (absent: 1) */
    properties: { syscall: keyword, fd: long, cgroup_id: keyword, count: long, escaped_fields: keyword, truncated: keyword },
  },
} as const satisfies CoreProperties;

const processRef = {
  pid: long,
  entity_id: keyword,
  name: keywordText,
  executable: keywordText,
  args: keyword,
  args_count: long,
  command_line: keywordText,
  start: date,
} as const satisfies CoreProperties;

/** process.*, user.*, group.* (syscall datasets). */
export const processFields = {
  process: obj({
    ...processRef,
    parent: obj(processRef),
    end: date,
    exit_code: long,
    working_directory: keywordText,
    interactive: bool,
    tty: obj({ char_device: obj({ major: long, minor: long }) }),
    thread: obj({ id: long }),
  }),
  /** user.target: the account an iam event (dataset audit) added, changed or deleted */
  user: obj({ id: keyword, name: keyword, target: obj({ id: keyword, name: keyword }) }),
  group: obj({ id: keyword, name: keyword }),
  provmon: {
    type: 'object',
    dynamic: false,
    properties: {
      previous_user_id: keyword,
      exec: obj({ filename: keywordText, args: keyword }),
      exit_signal: long,
      core_dumped: bool,
      fork_via: keyword,
      setid: obj({ syscall: keyword, ids: long }),
    },
  },
} as const satisfies CoreProperties;

/** provmon.io: read/write/send/receive aggregated per fd. */
const ioFields = { io: obj({ count: long, bytes: long }), io_reason: keyword } as const satisfies CoreProperties;

/** file.* (file dataset). */
export const fileFields = {
  file: obj({ path: keywordText, name: keyword, directory: keyword, mode: keyword, inode: keyword, type: keyword }),
  provmon: {
    type: 'object',
    dynamic: false,
    properties: { ...ioFields, open: obj({ flags: keyword }), file: obj({ source_path: keywordText }), channel: obj({ kind: keyword, id: keyword }) },
  },
} as const satisfies CoreProperties;

const endpoint = obj({ ip, port: long, address: keyword, domain: keyword, bytes: long, packets: long });

/** source.*, destination.*, network.* (network, flow, dns datasets). */
export const endpointFields = {
  source: endpoint,
  destination: endpoint,
  network: obj({
    transport: keyword,
    type: keyword,
    direction: keyword,
    bytes: long,
    packets: long,
    community_id: keyword,
    iana_number: keyword,
    protocol: keyword,
    vlan: obj({ id: keyword }),
  }),
  related: obj({ ip, hosts: keyword }),
  provmon: { type: 'object', dynamic: false, properties: { ...ioFields } },
} as const satisfies CoreProperties;

/** provmon.flow.* (flow dataset). */
export const flowFields = {
  provmon: {
    type: 'object',
    dynamic: false,
    properties: {
      flow: obj({
        final: bool,
        state: keyword,
        history: keyword,
        tcp_flags: keyword,
        dns_resolved: bool,
        id: keyword,
        sequence: long,
        end_reason: keyword,
        icmp: obj({ type: long, code: long }),
        total: obj({ bytes: long, packets: long, source: obj({ bytes: long, packets: long }), destination: obj({ bytes: long, packets: long }) }),
      }),
      /** live capture counters when the report was made (the sensor-health rule reads `dropped`) */
      pcap: obj({ received: long, dropped: long, interface_dropped: long }),
      /** the process at the responding end of a local connection (process.* is the initiator's) */
      responder_process: obj(processRef),
      /** offline analysis: how process.* was decided (docs/audit.md); confidence is a fraction, hence float */
      attribution: obj({
        method: keyword,
        confidence: float,
        evidence: obj({ event_id: keyword, at: date, action: keyword }),
        alternatives: keyword,
      }),
    },
  },
} as const satisfies CoreProperties;

/** dns.* (dns dataset). `dns.id` is keyword in ECS. */
export const dnsFields = {
  dns: obj({
    type: keyword,
    id: keyword,
    question: obj({
      name: keyword,
      type: keyword,
      class: keyword,
      registered_domain: keyword,
      /** set by the dns pipeline's registered_domain processor */
      subdomain: keyword,
      top_level_domain: keyword,
    }),
    answers: obj({ name: keyword, type: keyword, class: keyword, ttl: long, data: keyword }),
    resolved_ip: ip,
    response_code: keyword,
    header_flags: keyword,
    op_code: keyword,
  }),
  provmon: { type: 'object', dynamic: false, properties: { dns: obj({ unanswered: bool }) } },
} as const satisfies CoreProperties;

/**
 * provmon.audit.*: what an audit log record says beyond ECS, on every document `provmon analyze` makes from one
 * (syscall documents of the process/file/network datasets, and the audit dataset's logins, sudo, account changes).
 */
export const auditFields = {
  provmon: {
    type: 'object',
    dynamic: false,
    properties: {
      audit: obj({
        serial: long,
        type: keyword,
        syscall: keyword,
        key: keyword,
        auid: keyword,
        auid_name: keyword,
        session: keyword,
        op: keyword,
        result: keyword,
        terminal: keyword,
        grantors: keyword,
        unit: keyword,
        command: keywordText,
        cwd: keywordText,
      }),
    },
  },
} as const satisfies CoreProperties;

const counts = (keys: readonly string[]): CoreProperty => obj(Object.fromEntries(keys.map((k) => [k, long])));
const DATA_DATASETS = ['process', 'file', 'network', 'flow', 'dns'] as const;

/** Health documents (dataset health): the sensor's own state every stats interval (docs/health.md). */
const healthFields = {
  agent: obj({ type: keyword, version: keyword, name: keyword, id: keyword, ephemeral_id: keyword }),
  provmon: obj({
    health: obj({
      uptime_s: long,
      interval_s: long,
      events_per_s: counts(DATA_DATASETS),
      events_total: counts(DATA_DATASETS),
      ring: obj({ dropped: long, dropped_by_class: counts(['critical', 'net', 'high', 'low']), lost: long, pending_bytes: long }),
      queue: obj({ bytes: long, full_waits: long }),
      pcap: obj({ received: long, dropped: long, interface_dropped: long }),
      /** counters: the output's own counters, kept in _source (names differ per output) */
      output: obj({ name: keyword, spool_bytes: long, dropped: long }),
      rss_bytes: long,
      /** features: feature → what is used; in _source, searchable through fallbacks */
      fallbacks: keyword,
      capture: obj({ ebpf: bool, pcap: bool }),
    }),
  }),
} as const satisfies CoreProperties;

/**
 * Objects whose keys vary (an output's own counters, one key per optional kernel feature): kept in _source, not
 * indexed (their parent is dynamic: false), so no new key can ever make Elasticsearch reject a health document.
 */
export const SOURCE_ONLY_OBJECTS = ['provmon.health.output.counters', 'provmon.health.features'];

export const FIELD_GROUPS = {
  base: baseFields,
  process: processFields,
  file: fileFields,
  endpoints: endpointFields,
  flow: flowFields,
  dns: dnsFields,
  health: healthFields,
  audit: auditFields,
} as const satisfies Record<string, CoreProperties>;

export type FieldGroup = keyof typeof FIELD_GROUPS;

/** Which field groups each dataset's documents carry (docs/events.md). */
export const DATASET_GROUPS: Record<Dataset, FieldGroup[]> = {
  process: ['base', 'process', 'audit'],
  file: ['base', 'process', 'file', 'audit'],
  network: ['base', 'process', 'endpoints', 'audit'],
  flow: ['base', 'process', 'endpoints', 'flow'],
  dns: ['base', 'endpoints', 'dns'],
  health: ['base', 'health'],
  audit: ['base', 'process', 'endpoints', 'audit'],
};

/** Deep merge of mapping properties, the way Elasticsearch merges component templates. */
export function mergeProperties(...sets: CoreProperties[]): CoreProperties {
  const out: Record<string, CoreProperty> = {};
  for (const set of sets) {
    for (const [name, prop] of Object.entries(set)) {
      const have = out[name];
      if (have && 'properties' in have && 'properties' in prop && have.properties && prop.properties) {
        out[name] = { ...have, ...prop, properties: mergeProperties(have.properties, prop.properties) } as CoreProperty;
      } else {
        out[name] = prop;
      }
    }
  }
  return out;
}

/** Every leaf field path of a mapping, e.g. "process.parent.entity_id" (multi-fields as "process.name.text"). */
export function leafPaths(props: CoreProperties, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, prop] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if ('properties' in prop && prop.properties) out.push(...leafPaths(prop.properties, path));
    else {
      out.push(path);
      if ('fields' in prop && prop.fields) for (const sub of Object.keys(prop.fields)) out.push(`${path}.${sub}`);
    }
  }
  return out;
}

/** Field type of every leaf path (multi-fields included), e.g. "source.ip" → "ip", "process.name.text" → "text". */
export function leafTypes(props: CoreProperties, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [name, prop] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if ('properties' in prop && prop.properties) leafTypes(prop.properties, path, out);
    else {
      out.set(path, prop.type ?? 'object');
      if ('fields' in prop && prop.fields) for (const [sub, f] of Object.entries(prop.fields)) out.set(`${path}.${sub}`, f.type);
    }
  }
  return out;
}
