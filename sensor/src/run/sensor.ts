import type { Dataset, EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { ResolvedPaths } from '../config/paths.ts';
import { ensureDir } from '../config/paths.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import { hostIdentity } from '../model/host.ts';
import { LocalSink } from '../output/local/local-sink.ts';
import type { EventSink } from '../output/sink.ts';
import { formatRates, ratesBetween, type StatsSample } from './live-stats.ts';
import { SyscallCapture } from './syscall-capture.ts';

export interface SensorRunOptions {
  config: Config;
  paths: ResolvedPaths;
  log: Logger;
  /** seconds; undefined = until SIGINT/SIGTERM */
  durationS?: number;
  /** Resolves to stop the sensor (tests); signals do the same. */
  stopSignal?: Promise<void>;
}

export interface SensorSummary {
  events: Record<Dataset, number>;
  kernelDropped: number;
  kernelLost: number;
  produced: number;
  records: number;
}

/**
 * `provmon run`: capture → documents → sink, with live stats, until the duration ends or a signal arrives; then a
 * graceful stop that hands over what the kernel still holds and flushes the files.
 */
export async function runSensor(options: SensorRunOptions): Promise<SensorSummary> {
  const { config, paths, log } = options;
  ensureDir(paths.eventsDir);
  ensureDir(paths.outputDir);
  const host = hostIdentity(config.hostname);
  const sink: EventSink = new LocalSink({
    dir: paths.eventsDir,
    rotateBytes: config.local_config.rotate_mb * 1024 * 1024,
    maxFiles: config.local_config.max_files,
  });
  const counts: Record<Dataset, number> = { process: 0, file: 0, network: 0, flow: 0, dns: 0 };
  const emit = (doc: EcsEvent) => {
    counts[doc.event.dataset.slice(8) as Dataset] += 1;
    sink.write(doc);
  };

  let requestStop: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (requestStop = resolve));
  const onSignal = (signal: NodeJS.Signals) => requestStop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = options.durationS ? setTimeout(() => requestStop(`duration ${options.durationS}s reached`), options.durationS * 1000) : undefined;
  void options.stopSignal?.then(() => requestStop('stop requested'));

  const capture = config.ebpf_config.enabled ? new SyscallCapture(config, host, emit, log) : undefined;
  if (config.pcap_config.enabled) {
    log.warn('packet capture is not in this build yet (issue #4); running with eBPF only');
  }

  let previous: StatsSample = { atMs: Date.now(), byDataset: { ...counts } };
  const logStats = () => {
    const current: StatsSample = { atMs: Date.now(), byDataset: { ...counts } };
    const rates = ratesBetween(previous, current);
    previous = current;
    const k = capture?.stats();
    const rssMb = Math.round(process.memoryUsage().rss / 1048576);
    const drops = k?.kernel.dropped ?? 0;
    const lost = k?.kernel.lost ?? 0;
    const queue = k?.ringPendingBytes ?? 0;
    log.info(
      { rates, ring_drops: drops, lost, ring_pending_bytes: queue, processes: k?.processes ?? 0, sink: sink.stats(), rss_mb: rssMb },
      `events ${formatRates(rates)} | ring drops ${drops} lost ${lost} queue ${queue}B | rss ${rssMb}MB`,
    );
  };
  const statsTimer = setInterval(logStats, config.stats_interval * 1000);
  // Documents reach the files (and queries) within a second even when the sensor is quiet.
  const flushTimer = setInterval(() => void sink.flush(), 1000);

  let final: ReturnType<SyscallCapture['stop']> | undefined;
  try {
    const why = await stopped;
    log.info(`stopping (${why}): flushing kernel aggregates and files`);
  } finally {
    if (timer) clearTimeout(timer);
    clearInterval(statsTimer);
    clearInterval(flushTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    final = capture?.stop();
    await sink.close();
  }
  const k = final;
  const summary: SensorSummary = {
    events: counts,
    kernelDropped: k?.kernel.dropped ?? 0,
    kernelLost: k?.kernel.lost ?? 0,
    produced: k?.kernel.produced ?? 0,
    records: k?.kernel.received ?? 0,
  };
  log.info({ ...summary, events_dir: paths.eventsDir }, 'sensor stopped');
  return summary;
}
