import { z } from 'zod';
import { LOG_LEVELS } from './log-levels.ts';
import { FEATURE_NAMES } from '../ebpf/features.ts';
import { MAX_NARRATIVE_TIMEOUT_S } from '../../../kibana-plugin/common/graph/narrative-settings.ts';

/**
 * The configuration file. Every key of the seed's config.json is accepted as is; keys provmon adds are marked.
 * Objects are strict: an unknown key is a mistake (a typo would otherwise silently keep a default).
 */

const seconds = (what: string) =>
  z.number({ error: `a number of seconds (${what})` }).int('a whole number of seconds').positive('at least 1 second');

/**
 * Every configured string is bounded: a value is copied into every event (hostname) or into fixed-size kernel keys
 * (path prefixes, noise executables), so an oversized one is a configuration error, named by its key, not a
 * runtime surprise.
 */
const withinBytes = (max: number, what: string) => [(v: string) => Buffer.byteLength(v, 'utf8') <= max, `at most ${max} bytes (${what})`] as const;
const PATH_BYTES = 4095;
const [prefixFits, prefixTooLong] = withinBytes(256, 'the kernel compares at most 256 bytes of a path; a trailing * does not count');

const port = z.number({ error: 'a TCP port number' }).int('a whole port number').min(1).max(65535);

export const EsConfigSchema = z
  .strictObject({
    es_host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*|[A-Za-z0-9._-]+)$/, 'a host name or IP address (no scheme, path, port, credentials or spaces; a full URL goes in es_config.hosts)')
      .default('localhost').describe('Elasticsearch host name or address'),
    es_port: port.default(9200).describe('Elasticsearch HTTP port'),
    es_user: z.string().max(1024).default('').describe('Basic-auth user name (empty: no basic auth)'),
    es_password: z.string().max(1024).default('').describe('Basic-auth password. Prefer the PROVMON_ES_CONFIG__ES_PASSWORD environment variable'),
    secure: z.boolean().default(false).describe('Use HTTPS to reach es_host:es_port'),
    batch_size: z.number().int().min(1).max(100_000).default(1000).describe('Documents per _bulk request'),
    ebpf_index: z.string().optional().describe('Seed key, accepted and ignored: provmon writes data streams logs-provmon.<dataset>-<namespace>'),
    pcap_index: z.string().optional().describe('Seed key, accepted and ignored (see ebpf_index)'),
    es_index: z.string().optional().describe('Seed key, accepted and ignored (see ebpf_index)'),
    // provmon additions
    hosts: z.array(z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048)).max(64).default([]).describe('provmon: node URLs; when set, es_host/es_port/secure are not used'),
    api_key: z.string().max(4096).default('').describe('provmon: API key (base64 id:key) used instead of basic auth'),
    ca_file: z.string().max(PATH_BYTES).default('').describe('provmon: PEM file of the CA that signed the cluster certificate'),
    verify_tls: z.boolean().default(true).describe('provmon: verify the server certificate (turn off only for a lab)'),
    namespace: z
      .string()
      .regex(/^[a-z0-9_.+]+$/, 'lowercase letters, digits, _ . + (a data stream namespace; no "-")')
      .max(100)
      .default('default')
      .describe('provmon: data stream namespace'),
    // provmon additions: batching, backpressure and the spool (docs/elasticsearch.md "Output semantics")
    batch_max_bytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(5_000_000)
      .describe('provmon: a _bulk request is sent once it holds this many bytes of NDJSON (or batch_size documents)'),
    batch_max_latency_ms: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .default(1000)
      .describe('provmon: longest a document waits in a partial batch before the batch is sent (a latency bound, not an idle timer)'),
    concurrency: z.number().int().min(1).max(32).default(2).describe('provmon: _bulk requests in flight at once'),
    request_timeout: seconds('request timeout').default(60).describe('provmon: seconds before a _bulk request is abandoned and retried'),
    retry_initial_ms: z.number().int().min(1).max(60_000).default(250).describe('provmon: first retry delay; doubles on each retry, each delay drawn between half and all of it (jitter)'),
    retry_max_ms: z.number().int().min(1).max(600_000).default(30_000).describe('provmon: retry delay cap (also the spool replay back-off cap)'),
    retry_max_attempts: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(5)
      .describe('provmon: retries of a batch in memory (429, 502/503/504, connection errors) before it goes to the disk spool'),
    queue_max_bytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * 1024 * 1024)
      .describe('provmon: bound on batches held in memory waiting for Elasticsearch; beyond it batches go to the disk spool'),
    spool_max_bytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(1024 * 1024 * 1024)
      .describe('provmon: bound on the disk spool (output_dir/es-spool); when reached, spool_when_full decides what is dropped (and counted)'),
    spool_when_full: z
      .enum(['drop_oldest', 'drop_newest'], { error: '"drop_oldest" or "drop_newest"' })
      .default('drop_oldest')
      .describe('provmon: spool full: drop the oldest spooled batches to make room (default), or drop the new batch'),
    internal_networks: z
      .array(z.string().min(1).max(64))
      .max(10_000)
      .default(['loopback', 'private', 'link_local_unicast'])
      .describe('provmon: CIDRs or named ranges (loopback, private, link_local_unicast, public, ...) the flow pipeline uses for network.direction'),
    retention_days: z
      .strictObject({
        process: z.number().int().min(1).default(30).describe('days kept in logs-provmon.process-*'),
        file: z.number().int().min(1).default(30).describe('days kept in logs-provmon.file-*'),
        network: z.number().int().min(1).default(30).describe('days kept in logs-provmon.network-*'),
        flow: z.number().int().min(1).default(30).describe('days kept in logs-provmon.flow-*'),
        dns: z.number().int().min(1).default(30).describe('days kept in logs-provmon.dns-*'),
        health: z.number().int().min(1).default(30).describe('days kept in logs-provmon.health-* (the sensor health documents)'),
        audit: z.number().int().min(1).default(30).describe('days kept in logs-provmon.audit-* (logins, sudo, account changes from analysed audit logs)'),
        flow_rollup: z.number().int().min(1).default(395).describe('days of 1-minute flow rollups kept in provmon-flow-rollup-1m'),
      })
      .prefault({})
      .describe('provmon: ILM delete phase per dataset, installed by provmon setup'),
    enrich_refresh_interval: z
      .number()
      .int()
      .min(0)
      .default(300)
      .describe('provmon: seconds between re-executions of the DNS enrich policy by the sensor (0: never; then run `provmon setup --refresh-enrich` from cron)'),
  })
  .describe('Elasticsearch output');

const powerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

export const EbpfConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Capture syscalls with eBPF'),
  file_logging_enabled: z.boolean().default(false).describe('Also write eBPF events as JSONL when storage_type is elasticsearch'),
  // provmon additions
  ring_buffer_mb: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .refine(powerOfTwo, 'a power of two (1, 2, 4 ... 1024)')
    .default(16)
    .describe('provmon: BPF ring buffer size in MiB (a power of two)'),
  flush_interval: seconds('read/write aggregate flush interval').default(5).describe('provmon: open descriptors report their aggregated reads/writes this often'),
  path_prefixes: z
    .array(
      z
        .string()
        .startsWith('/', 'an absolute path prefix')
        .refine((v) => prefixFits(v.replace(/\*$/, '')), prefixTooLong),
    )
    .max(10_000)
    .default(['/proc', '/sys', '/usr/lib*', '/lib*', '/dev/null'])
    .describe('provmon: file events under these prefixes are dropped in the kernel (never exec); a trailing * is a byte prefix, otherwise a path component boundary'),
  noise: z
    .array(
      z.strictObject({
        comm: z.string().min(1).max(15),
        exe: z
          .string()
          .startsWith('/', 'an absolute executable path')
          .refine(...withinBytes(256, 'the kernel keys noise rules on at most 256 bytes of the executable')),
      }),
    )
    .max(10_000)
    .default([{ comm: 'systemd-journal', exe: '/usr/lib/systemd/systemd-journald' }])
    .describe('provmon: processes dropped in the kernel when BOTH comm and executable match (a renamed process is still captured)'),
  network_allowlist: z
    .array(z.strictObject({ ip: z.union([z.ipv4(), z.ipv6()], { error: 'an IPv4 or IPv6 address' }), port: port }))
    .default([])
    .describe('provmon: exact IP+port pairs whose socket events are dropped in the kernel; the same port on another IP is still captured'),
  queue_mb: z
    .number()
    .int()
    .min(0)
    .max(4096)
    .refine((n) => n === 0 || powerOfTwo(n), 'a power of two (1, 2, 4 ... 4096), or 0')
    .default(64)
    .describe('provmon: user-memory queue (MiB, a power of two) filled by the drain thread, so a slow output grows it instead of filling the kernel ring; 0 drains on the capture thread'),
  fold: z
    .boolean()
    .default(true)
    .describe('provmon: fold repeated read-only opens of the same unchanged file by one process into one document with provmon.count (docs/ebpf.md)'),
  force_fallback: z
    .array(z.enum(FEATURE_NAMES as [string, ...string[]], { error: `one of ${FEATURE_NAMES.join(', ')}` }))
    .default([])
    .describe(`provmon: optional kernel features to replace by their tracepoint fallback even where the kernel accepts them (${FEATURE_NAMES.join(', ')}); provmon doctor lists them`),
});

export const PcapConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Capture packets with libpcap'),
  file_logging_enabled: z.boolean().default(true).describe('Also write flows as JSONL when storage_type is elasticsearch'),
  interface: z.string().min(1).max(15, 'at most 15 bytes (a Linux interface name)').default('any').describe('Interface to capture on (the seed defaulted to eth0; provmon defaults to any)'),
  bpf_filter: z.string().max(65_536).default('tcp or udp').describe('Berkeley Packet Filter expression compiled into the kernel'),
  flow_timeout: seconds('flow inactivity timeout').default(300).describe('A flow with no packet for this long ends'),
  dns_cache_ttl: seconds('passive-DNS cache lifetime').default(300).describe('Longest time a DNS answer names an IP'),
  flush_interval: seconds('long-flow report interval').default(60).describe('Long-lived flows are reported this often'),
  // provmon additions
  snaplen: z.number().int().min(64).max(262144).default(262144).describe('provmon: bytes kept per packet'),
  buffer_mb: z.number().int().min(1).max(4096).default(32).describe('provmon: kernel capture buffer (MiB); larger absorbs longer bursts before drops'),
  max_flows: z.number().int().min(1).max(10_000_000).default(100_000).describe('provmon: flows held in memory; beyond it the oldest is reported early and counted as evicted'),
  dns_query_events: z
    .enum(['unanswered', 'all', 'none'])
    .default('unanswered')
    .describe('provmon: which DNS queries become events besides answers: only those never answered (default), all, or none'),
});


export const NarrativeConfigSchema = z
  .strictObject({
    url: z
      .union([z.literal(''), z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })])
      .default('')
      .describe('provmon: base URL of an Ollama- or OpenAI-compatible endpoint for `provmon graph --narrate` (empty: no model; the deterministic summary is the narrative)'),
    api: z.enum(['ollama', 'openai'], { error: '"ollama" or "openai"' }).default('ollama').describe('provmon: wire format of narrative.url (/api/chat or /v1/chat/completions)'),
    model: z.string().default('').describe('provmon: model name sent to the endpoint'),
    timeout_s: seconds('narrative request timeout').max(MAX_NARRATIVE_TIMEOUT_S, `at most ${MAX_NARRATIVE_TIMEOUT_S} seconds`).default(60).describe('provmon: give up on the endpoint after this long (the deterministic summary stands)'),
    api_key: z.string().default('').describe('provmon: bearer token for an OpenAI-compatible endpoint. Prefer PROVMON_NARRATIVE__API_KEY'),
  })
  .describe('provmon: the attack narrative (graph --narrate): only the reduced graph and its findings are sent, never file contents, with secrets in arguments masked');

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema reference for editors; ignored'),
    hostname: z.string().max(253, 'at most 253 characters (a DNS host name; it is copied into every event)').default('').describe('host.name on every event (empty: the machine hostname)'),
    host_id: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{0,128}$/, 'letters, digits and . _ : - (at most 128)')
      .default('')
      .describe('provmon: host.id on every event, and the host part of every process.entity_id (empty: /etc/machine-id). Set it where machines share a machine id (cloned images) so their processes never merge'),
    events_dir: z.string().min(1).refine(...withinBytes(PATH_BYTES, 'a path')).optional().describe('Local store directory (default /var/monitoring/events when writable, else ./data/events)'),
    output_dir: z.string().min(1).refine(...withinBytes(PATH_BYTES, 'a path')).optional().describe('Spool and outputs directory (default /var/monitoring/outputs when writable, else ./data/outputs)'),
    storage_type: z
      .enum(['local', 'elasticsearch'], { error: '"local" or "elasticsearch"' })
      .default('local')
      .describe('Where events go (the seed defaulted to elasticsearch; provmon defaults to the local store)'),
    log_level: z.enum(LOG_LEVELS).default('info').describe('provmon: log verbosity'),
    stats_interval: seconds('live stats interval').default(5).describe('provmon: live stats are logged this often'),
    local_config: z
      .strictObject({
        rotate_mb: z.number().int().min(1).max(65536).default(128).describe('Rotate a JSONL file when it reaches this size (MiB)'),
        max_files: z.number().int().min(1).max(100000).default(20).describe('Rotated files kept per stream; older ones are deleted and their events counted as evicted'),
      })
      .prefault({})
      .describe('provmon: local store (JSONL files + index) bounds'),
    es_config: EsConfigSchema.prefault({}),
    ebpf_config: EbpfConfigSchema.prefault({}),
    pcap_config: PcapConfigSchema.prefault({}),
    narrative: NarrativeConfigSchema.prefault({}),
  })
  .describe('provmon configuration');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The JSON Schema published for editors (schema/config.schema.json is generated from this). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://provmon.invalid/schema/config.schema.json', title: 'provmon config.json' };
}
