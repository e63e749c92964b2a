import { DATASETS, type Dataset, type EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { ResolvedPaths } from '../config/paths.ts';
import { ensureDir } from '../config/paths.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { EXIT } from '../errors.ts';
import { hostIdentity } from '../model/host.ts';
import { createElasticsearchOutput } from '../output/elasticsearch/output.ts';
import { LocalSink } from '../output/local/local-sink.ts';
import type { EventSink } from '../output/sink.ts';
import { HealthReporter } from './health.ts';
import { formatRates, ratesBetween, type StatsSample } from './live-stats.ts';
import { SocketAttribution } from '../model/socket-attribution.ts';
import { isSupportedLinkType, linkTypeName } from '../pcap/link-types.ts';
import { PacketCapture } from './packet-capture.ts';
import { longTimeout } from './long-timeout.ts';
import { StopRequests, type StopState } from './stop-requests.ts';
import { SyscallCapture } from './syscall-capture.ts';

export interface SensorRunOptions {
  config: Config;
  paths: ResolvedPaths;
  log: Logger;
  /** seconds; undefined = until SIGINT/SIGTERM/SIGHUP */
  durationS?: number;
  /** Stop requests already listening for signals (the CLI installs them before start-up); else runSensor installs its own. */
  stop?: StopRequests;
  /** Read this pcap/pcapng file instead of capturing live, then stop. */
  pcapFile?: string;
}

export interface SensorSummary {
  events: Record<Dataset, number>;
  kernelDropped: number;
  /** ... per priority class (docs/ebpf.md "Priority classes"): critical records lost only when the ring is full */
  kernelDroppedByClass?: { critical: number; net: number; high: number; low: number };
  /** read-only opens the kernel folded into `provmon.count` documents (not a loss) */
  opensFolded?: number;
  kernelLost: number;
  produced: number;
  records: number;
  /** packets the capture lost (ps_drop + ps_ifdrop), live capture only */
  packetsDropped: number;
  flows: number;
  /** flows joined with a process through its socket events */
  flowsAttributed: number;
  /** packets and damage seen in a capture file (offline mode) */
  pcapFile?: CaptureFileSummary;
  /** why the run stopped and which signals arrived (live mode) */
  stop?: StopState;
  /** the output's own counters at the end (written, dropped, spooled, ...) */
  output?: Record<string, number>;
}

export interface CaptureFileSummary {
  packets: number;
  /** damaged file structure (blocks skipped, a cut) plus malformed packets, every one counted */
  malformed: number;
  /** the non-zero counts behind `malformed`, by reason */
  malformedBy: Record<string, number>;
  /** packets of a link type the decoder does not know: read, but no events */
  unsupportedLinkType: number;
  /** the file's own structure was damaged (not just odd packets inside it): the run exits with EXIT_DAMAGED_INPUT */
  damaged: boolean;
  error?: string;
}

/** Exit code of a run whose capture file was damaged; what came before the damage was kept. */
export const EXIT_DAMAGED_INPUT = EXIT.damagedInput;

/**
 * `provmon run`: capture → documents → sink, with live stats, until the duration ends or a signal arrives; then a
 * graceful stop that hands over what the kernel still holds and flushes the files.
 */
export async function runSensor(options: SensorRunOptions): Promise<SensorSummary> {
  const { config, paths, log } = options;
  ensureDir(paths.eventsDir);
  ensureDir(paths.outputDir);
  const host = hostIdentity(config.hostname, config.host_id);
  const sink: EventSink =
    config.storage_type === 'elasticsearch'
      ? createElasticsearchOutput(config, paths, log)
      : new LocalSink({ dir: paths.eventsDir, rotateBytes: config.local_config.rotate_mb * 1024 * 1024, maxFiles: config.local_config.max_files, log });
  log.info({ output: sink.name }, config.storage_type === 'elasticsearch' ? 'documents go to Elasticsearch (spool on failure)' : 'documents go to the local store');
  const counts = Object.fromEntries(DATASETS.map((d) => [d, 0])) as Record<Dataset, number>;
  const write = (doc: EcsEvent) => {
    counts[doc.event.dataset.slice(8) as Dataset] += 1;
    sink.write(doc);
  };
  // A flow is reported at the latest flow_timeout + flush_interval after the socket events that name its process.
  const attribution = new SocketAttribution((config.pcap_config.flow_timeout + config.pcap_config.flush_interval + 60) * 1000);

  if (options.pcapFile) return readPcapFile(options.pcapFile, { config, host, log, write, counts, attribution, sink, eventsDir: paths.eventsDir });

  const stop = options.stop ?? new StopRequests();
  const ownStop = options.stop === undefined;
  stop.install();
  const timer = options.durationS ? longTimeout(() => stop.request('duration'), options.durationS * 1000) : undefined;
  stop.onHurry(() => {
    log.warn({ phase: 'stopping', hurried: true }, 'second signal: outputs stop waiting for slow destinations and keep the rest on disk');
    sink.hurry?.();
  });

  let capture: SyscallCapture | undefined;
  let packets: PacketCapture | undefined;
  try {
    capture = config.ebpf_config.enabled ? new SyscallCapture(config, host, (doc) => (attribution.observe(doc), write(doc)), log) : undefined;
    if (config.pcap_config.enabled) {
      packets = new PacketCapture(config, host, write, (doc) => attribution.attribute(doc));
      packets.startLive(log);
    packets.warnIfUndecodable(log);
    }
  } catch (error) {
    timer?.cancel();
    capture?.stop();
    await sink.close();
    if (ownStop) stop.uninstall();
    throw error;
  }
  log.info({ phase: 'capturing', ebpf: capture !== undefined, pcap: packets !== undefined }, 'capture running');

  let previous: StatsSample = { atMs: Date.now(), byDataset: { ...counts } };
  const health = new HealthReporter({ host, namespace: config.es_config.namespace, startedAtMs: previous.atMs });
  const logStats = () => {
    const current: StatsSample = { atMs: Date.now(), byDataset: { ...counts } };
    const rates = ratesBetween(previous, current);
    previous = current;
    const k = capture?.stats();
    const rssMb = Math.round(process.memoryUsage().rss / 1048576);
    const drops = k?.kernel.dropped ?? 0;
    const lost = k?.kernel.lost ?? 0;
    const queue = (k?.ringPendingBytes ?? 0) + (k?.kernel.queueBytes ?? 0);
    const pcap = packets?.captureStats();
    const pcapDrops = pcap ? pcap.dropped + pcap.interfaceDropped : 0;
    const a = attribution.stats;
    attribution.expire(Date.now());
    const output = { name: sink.name, counters: sink.stats() };
    const enabled = { ebpf: capture !== undefined, pcap: packets !== undefined };
    write(health.document({ atMs: current.atMs, totals: counts, capture: k, features: capture?.features ?? [], pcap, output, rssBytes: process.memoryUsage().rss, enabled }));
    log.info(
      {
        rates,
        ring_drops: drops,
        ring_drops_by_class: { critical: k?.kernel.droppedCritical ?? 0, net: k?.kernel.droppedNet ?? 0, high: k?.kernel.droppedHigh ?? 0, low: k?.kernel.droppedLow ?? 0 },
        opens_folded: k?.kernel.opensFolded ?? 0,
        lost,
        ring_pending_bytes: k?.ringPendingBytes ?? 0,
        queue_bytes: k?.kernel.queueBytes ?? 0,
        queue_full_waits: k?.kernel.queueFullWaits ?? 0,
        drain: k?.kernel.drain ?? null,
        processes: k?.processes ?? 0,
        pcap: pcap ?? null,
        flows_attributed: a.attributed,
        flows: a.flows,
        sink: output.counters,
        rss_mb: rssMb,
      },
      `events ${formatRates(rates)} | ring drops ${drops} lost ${lost} queue ${queue}B | pcap drops ${pcapDrops} | flows with process ${a.attributed}/${a.flows} | rss ${rssMb}MB`,
    );
  };
  const statsTimer = setInterval(logStats, config.stats_interval * 1000);
  // Documents reach the files (and queries) within a second even when the sensor is quiet.
  const flushTimer = setInterval(() => void sink.flush(), 1000);

  let final: ReturnType<SyscallCapture['stop']> | undefined;
  try {
    const why = await stop.stopped;
    log.info({ phase: 'stopping', reason: why }, `stopping (${why === 'duration' ? `duration ${options.durationS}s reached` : why}): flushing kernel aggregates and files`);
  } finally {
    timer?.cancel();
    clearInterval(statsTimer);
    clearInterval(flushTimer);
    // Signal handlers stay installed until the end: a further signal hurries the outputs, it never kills the drain.
    final = capture?.stop();
    await packets?.stop();
    await sink.close();
    if (ownStop) stop.uninstall();
  }
  const k = final;
  const summary: SensorSummary = {
    events: counts,
    kernelDropped: k?.kernel.dropped ?? 0,
    kernelDroppedByClass: { critical: k?.kernel.droppedCritical ?? 0, net: k?.kernel.droppedNet ?? 0, high: k?.kernel.droppedHigh ?? 0, low: k?.kernel.droppedLow ?? 0 },
    opensFolded: k?.kernel.opensFolded ?? 0,
    kernelLost: k?.kernel.lost ?? 0,
    produced: k?.kernel.produced ?? 0,
    records: k?.kernel.received ?? 0,
    packetsDropped: (() => {
      const p = packets?.captureStats();
      return p ? p.dropped + p.interfaceDropped : 0;
    })(),
    flows: attribution.stats.flows,
    flowsAttributed: attribution.stats.attributed,
    stop: stop.snapshot(),
    output: sink.stats(),
  };
  log.info({ phase: 'stopped', ...summary, events_dir: paths.eventsDir }, 'sensor stopped');
  return summary;
}

interface OfflineContext {
  config: Config;
  host: ReturnType<typeof hostIdentity>;
  log: Logger;
  write: (doc: EcsEvent) => void;
  counts: Record<Dataset, number>;
  attribution: SocketAttribution;
  sink: EventSink;
  eventsDir: string;
}

/** `run --pcap-file`: the file goes through the live pipeline, every flow is flushed at its end, then the run ends. */
async function readPcapFile(path: string, c: OfflineContext): Promise<SensorSummary> {
  const packets = new PacketCapture(c.config, c.host, c.write, (doc) => c.attribution.attribute(doc));
  let result;
  try {
    result = packets.readFile(path);
  } finally {
    await c.sink.close();
  }
  const stats = packets.pipeline.decodeStats;
  const fileDamage = Object.fromEntries(Object.entries(result.malformed).filter(([, n]) => n > 0)) as Record<string, number>;
  const fileDamageTotal = Object.values(fileDamage).reduce((a, b) => a + b, 0);
  const damaged = result.error !== undefined || fileDamageTotal > 0;
  if (result.error) c.log.warn({ file: path, error: result.error }, `capture file damaged: ${result.error}; everything before the damage was processed`);
  else if (fileDamageTotal > 0) c.log.warn({ file: path, malformed: fileDamage }, `capture file damaged: ${fileDamageTotal} blocks skipped; every other packet was processed`);
  const unsupported = stats.traffic.unsupported_link_type;
  if (unsupported > 0) {
    const kinds = [...new Set(result.interfaces.map((i) => i.linkType).filter((t) => !isSupportedLinkType(t)))].map(linkTypeName);
    c.log.warn({ file: path, unsupported_link_type: unsupported, link_types: kinds }, `${unsupported} packets have a link type provmon cannot decode (${kinds.join(', ')}): they produced no events`);
  }
  const pcapFile: CaptureFileSummary = {
    packets: result.packets,
    malformed: stats.malformed.total() + fileDamageTotal,
    malformedBy: { ...stats.malformed.nonZero(), ...fileDamage },
    unsupportedLinkType: unsupported,
    damaged,
    ...(result.error ? { error: result.error } : {}),
  };
  const summary: SensorSummary = {
    events: c.counts,
    kernelDropped: 0,
    kernelLost: 0,
    produced: 0,
    records: 0,
    packetsDropped: 0,
    flows: c.attribution.stats.flows,
    flowsAttributed: 0,
    pcapFile,
    output: c.sink.stats(),
  };
  c.log.info({ phase: 'stopped', ...summary, events_dir: c.eventsDir }, 'capture file processed');
  return summary;
}
