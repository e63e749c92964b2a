/**
 * Offline analysis of a machine that had no provmon: its audit logs and a packet capture become one case (the same
 * ECS documents the sensor writes, in a local store or an Elasticsearch namespace), with every flow attributed to a
 * process where the evidence allows and the rest listed. Callable from the CLI (`provmon analyze`) and from an
 * upload handler (the plugin's "Offline analysis" page): inputs are paths or bytes/streams.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { datasetName, datasetOf, type EcsEvent, type EcsProcessRef } from '../../../kibana-plugin/common/ecs.ts';
import { AuditLogReader, fileChunks, firstRecordTime, looksLikeAuditLog, type AuditInput, type AuditReadStats } from '../audit/reader.ts';
import { parseRecordLine } from '../audit/record.ts';
import { ProvmonError } from '../errors.ts';
import type { EventSink } from '../output/sink.ts';
import { readCaptureBytes, readCaptureFile, type CaptureFileResult } from '../pcap/capture-file.ts';
import { dnsDocument, flowDocument, type EcsContext, type FlowDocument } from '../pcap/ecs.ts';
import { PcapPipeline, type PcapPipelineOptions } from '../pcap/pipeline.ts';
import { FlowCorrelator, type CorrelationStats, type UnattributedFlow } from './correlate.ts';

export type CaptureSource = { path: string } | { name: string; bytes: Uint8Array };
export type AuditSource = { path: string } | AuditInput;

export interface AnalyzeOptions {
  pcap?: CaptureSource;
  audit: AuditSource[];
  sink: EventSink;
  namespace: string;
  /** host.name of the case; default the audit log's node=, else "offline" */
  hostName?: string;
  /** how far apart (ms) a socket syscall and a flow's first packet may be and still match */
  toleranceMs: number;
  /** flow table settings (flow_timeout etc. from the configuration) */
  pipeline?: Omit<PcapPipelineOptions, 'onFlow' | 'onDns'>;
  onProgress?: (p: AnalyzeProgress) => void;
}

export interface AnalyzeProgress {
  phase: 'audit' | 'pcap';
  /** audit: bytes read so far and the total when known */
  bytes?: number;
  totalBytes?: number;
  /** pcap: packets read so far, and the capture's size */
  packets?: number;
  documents: number;
}

export interface ProcessTraffic {
  process: EcsProcessRef;
  flows: number;
  bytes: number;
}

export interface AnalysisSummary {
  host: { name: string; id: string };
  namespace: string;
  audit?: { files: string[]; stats: AuditReadStats };
  pcap?: { file: string; format: string; packets: number; malformed: number; error?: string; flows: number; dns: number };
  documents: Record<string, number>;
  correlation: CorrelationStats;
  unattributed: UnattributedFlow[];
  top_processes: ProcessTraffic[];
  timeline: { from?: string; to?: string; buckets: { start: string; events: number; flows: number }[] };
}

/** What a file is, from its first bytes: for a clear error when an upload or an argument is neither. */
export function sniffInput(head: Uint8Array): 'pcap' | 'pcapng' | 'audit' | 'unknown' {
  if (head.length >= 4) {
    const le = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
    const be = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    if (le === 0x0a0d0d0a) return 'pcapng';
    for (const m of [le, be]) if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xa1b2cd34) return 'pcap';
  }
  return looksLikeAuditLog(head) ? 'audit' : 'unknown';
}

/** host.id of a case: the machine id is not in an audit log or a capture, so it is derived from the host name. */
export function offlineHostId(name: string): string {
  return createHash('sha256').update(`provmon-offline-host:${name}`).digest('hex').slice(0, 32);
}

function head(path: string, bytes = 64 * 1024): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function openable(path: string, what: string, flag: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProvmonError(`cannot read ${what} ${path}: ${code ?? (error as Error).message}`, { hint: `check the path given to ${flag}`, exitCode: 2, cause: error });
  }
}

/** Checks paths before anything is written: each must exist and be what its flag says. Returns the audit order. */
function checkInputs(o: AnalyzeOptions): { audit: AuditInput[]; totalAuditBytes: number; node?: string } {
  if (!o.pcap && o.audit.length === 0) throw new ProvmonError('nothing to analyze: give --pcap, --audit-log, or both', { exitCode: 2 });
  if (o.pcap) {
    const name = 'path' in o.pcap ? o.pcap.path : o.pcap.name;
    if ('path' in o.pcap) openable(o.pcap.path, 'capture file', '--pcap');
    const kind = sniffInput('path' in o.pcap ? head(o.pcap.path) : o.pcap.bytes.subarray(0, 64 * 1024));
    if (kind === 'audit') throw new ProvmonError(`${name} is an audit log, not a capture`, { hint: 'give it with --audit-log', exitCode: 2 });
    if (kind === 'unknown') throw new ProvmonError(`${name} is not a pcap or pcapng capture`, { hint: 'give a capture written by tcpdump, dumpcap, tshark or provmon (gunzip it first if compressed)', exitCode: 2 });
  }
  let total = 0;
  let node: string | undefined;
  const ordered: { input: AuditInput; first: number | undefined; index: number }[] = [];
  for (const [index, a] of o.audit.entries()) {
    if ('path' in a) {
      total += openable(a.path, 'audit log', '--audit-log');
      const start = head(a.path);
      const kind = sniffInput(start);
      if (kind !== 'audit') {
        throw new ProvmonError(`${a.path} is not a Linux audit log${kind === 'unknown' ? '' : ` (it is a ${kind} capture)`}: none of its first lines is a type=… msg=audit(…) record`, {
          hint: kind === 'unknown' ? 'give the raw log (/var/log/audit/audit.log*), not ausearch -i output or a JSON export' : 'give captures with --pcap',
          exitCode: 2,
        });
      }
      node ??= nodeOf(start);
      ordered.push({ input: { name: a.path, chunks: fileChunks(a.path) }, first: firstRecordTime(start), index });
    } else ordered.push({ input: a, first: undefined, index });
  }
  // Rotated logs (audit.log.3 … audit.log) in time order whatever order they were given in; unknown ones keep theirs.
  ordered.sort((x, y) => (x.first ?? Infinity) - (y.first ?? Infinity) || x.index - y.index);
  return { audit: ordered.map((x) => x.input), totalAuditBytes: total, ...(node ? { node } : {}) };
}

function nodeOf(start: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(start.subarray(0, 8192));
  for (const line of text.split('\n')) {
    const r = parseRecordLine(line);
    if (r) return r.node;
  }
  return undefined;
}

export async function analyzeCase(o: AnalyzeOptions): Promise<AnalysisSummary> {
  const inputs = checkInputs(o);
  const hostName = o.hostName ?? inputs.node ?? 'offline';
  const host = { name: hostName, id: offlineHostId(hostName) };
  const documents: Record<string, number> = {};
  const timeline = new Timeline();
  const traffic = new Map<string, ProcessTraffic>();
  const correlator = new FlowCorrelator(o.toleranceMs);
  let written = 0;
  const write = (doc: EcsEvent) => {
    const dataset = datasetOf(doc.event.dataset) ?? doc.event.dataset;
    documents[dataset] = (documents[dataset] ?? 0) + 1;
    timeline.add(doc);
    o.sink.write(doc);
    written += 1;
  };

  const summary: AnalysisSummary = {
    host,
    namespace: o.namespace,
    documents,
    correlation: correlator.stats,
    unattributed: correlator.unattributed,
    top_processes: [],
    timeline: { buckets: [] },
  };

  if (o.audit.length > 0) {
    const reader = new AuditLogReader({
      host: { ...host, bootTimeMs: 0 },
      namespace: o.namespace,
      onDocument: (doc) => {
        correlator.observe(doc);
        write(doc);
      },
      onProgress: (bytes) => o.onProgress?.({ phase: 'audit', bytes, ...(inputs.totalAuditBytes ? { totalBytes: inputs.totalAuditBytes } : {}), documents: written }),
    });
    for (const input of inputs.audit) await reader.read(input);
    summary.audit = { files: inputs.audit.map((a) => a.name), stats: reader.finish() };
  }
  correlator.seal();

  if (o.pcap) {
    const ctx: EcsContext = { host, namespace: o.namespace };
    let dns = 0;
    let flows = 0;
    const pipeline = new PcapPipeline({
      ...o.pipeline,
      onFlow: (report) => {
        const doc = flowDocument(report, ctx);
        correlator.attribute(doc);
        if (report.final) flows += 1;
        countTraffic(traffic, doc);
        write(doc);
      },
      onDns: (event) => {
        dns += 1;
        write(dnsDocument(event, ctx));
      },
    });
    const total = 'path' in o.pcap ? statSync(o.pcap.path).size : o.pcap.bytes.length;
    let packets = 0;
    const handle = pipeline.handle;
    const onPacket: Parameters<typeof readCaptureFile>[1] = (rec) => {
      handle(rec);
      if (++packets % 65536 === 0) o.onProgress?.({ phase: 'pcap', packets, totalBytes: total, documents: written });
    };
    const name = 'path' in o.pcap ? o.pcap.path : o.pcap.name;
    const result: CaptureFileResult = 'path' in o.pcap ? readCaptureFile(o.pcap.path, onPacket) : readCaptureBytes(o.pcap.bytes, onPacket, { label: o.pcap.name });
    pipeline.finish('end_of_capture');
    const malformed = pipeline.decodeStats.malformed.total() + Object.values(result.malformed).reduce((a: number, b) => a + (b as number), 0);
    summary.pcap = { file: name, format: result.format, packets: result.packets, malformed, ...(result.error ? { error: result.error } : {}), flows, dns };
  }

  await o.sink.flush();
  summary.top_processes = [...traffic.values()].sort((a, b) => b.bytes - a.bytes || b.flows - a.flows).slice(0, 20);
  summary.timeline = timeline.result();
  return summary;
}

function countTraffic(traffic: Map<string, ProcessTraffic>, doc: FlowDocument): void {
  const p = doc.process;
  if (!p?.entity_id) return;
  let t = traffic.get(p.entity_id);
  if (!t) traffic.set(p.entity_id, (t = { process: { pid: p.pid, entity_id: p.entity_id, ...(p.name ? { name: p.name } : {}), ...(p.executable ? { executable: p.executable } : {}) }, flows: 0, bytes: 0 }));
  // reports carry deltas: summing network.bytes over them gives the flow's total
  t.bytes += doc.network.bytes ?? 0;
  if (doc.provmon.flow.sequence === 0) t.flows += 1;
}

/** Events and flows per time bucket (minute, or wider for long cases: at most 60 buckets), bounded by construction. */
class Timeline {
  private fromMs = Infinity;
  private toMs = -Infinity;
  private readonly perMinute = new Map<number, { events: number; flows: number }>();

  add(doc: EcsEvent): void {
    const ms = Date.parse(doc['@timestamp']);
    if (Number.isNaN(ms)) return;
    if (ms < this.fromMs) this.fromMs = ms;
    if (ms > this.toMs) this.toMs = ms;
    const minute = Math.floor(ms / 60_000);
    let b = this.perMinute.get(minute);
    if (!b) {
      if (this.perMinute.size >= 100_000) return; // a case over ~70 days: the span is still right, buckets stop growing
      this.perMinute.set(minute, (b = { events: 0, flows: 0 }));
    }
    if (doc.event.dataset === datasetName('flow')) b.flows += 1;
    else b.events += 1;
  }

  result(): AnalysisSummary['timeline'] {
    if (this.perMinute.size === 0) return { buckets: [] };
    const minutes = [...this.perMinute.keys()].sort((a, b) => a - b);
    const first = minutes[0]!;
    const span = minutes[minutes.length - 1]! - first + 1;
    const width = Math.max(1, Math.ceil(span / 60));
    const buckets: { start: string; events: number; flows: number }[] = [];
    for (const m of minutes) {
      const slot = Math.floor((m - first) / width);
      const start = new Date((first + slot * width) * 60_000).toISOString();
      let b = buckets[buckets.length - 1];
      if (!b || b.start !== start) buckets.push((b = { start, events: 0, flows: 0 }));
      const v = this.perMinute.get(m)!;
      b.events += v.events;
      b.flows += v.flows;
    }
    return { from: new Date(this.fromMs).toISOString(), to: new Date(this.toMs).toISOString(), buckets };
  }
}
