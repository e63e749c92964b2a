/**
 * Health documents (dataset `health`, docs/health.md): every stats interval the sensor describes itself to the same
 * output as its events, so a dashboard or an alert rule can tell a sensor that went blind (drops, losses, a fallback)
 * or silent (no document for a while) without reading its logs.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CaptureDataset, Dataset, EcsEvent, SensorHealth } from '../../../kibana-plugin/common/ecs.ts';
import type { FeatureChoice } from '../ebpf/features.ts';
import type { HostIdentity } from '../model/host.ts';
import type { CaptureStats as PacketCaptureStats } from '../pcap/libpcap.ts';
import { PROVMON_VERSION } from '../version.ts';
import type { SyscallCaptureStats } from './syscall-capture.ts';

type DataDataset = CaptureDataset;
const DATA_DATASETS: DataDataset[] = ['process', 'file', 'network', 'flow', 'dns'];

/** One sample of everything the sensor counts, taken by the stats timer. */
export interface HealthSample {
  atMs: number;
  /** documents written since start, by dataset */
  totals: Record<Dataset, number>;
  capture: SyscallCaptureStats | undefined;
  features: FeatureChoice[];
  pcap: PacketCaptureStats | undefined;
  output: { name: string; counters: Record<string, number> };
  rssBytes: number;
  enabled: { ebpf: boolean; pcap: boolean };
}

export interface HealthReporterOptions {
  host: HostIdentity;
  namespace: string;
  startedAtMs: number;
}

export class HealthReporter {
  /** ECS agent.id: stable for this sensor on this host (survives restarts); ephemeral_id changes every start. */
  readonly agentId: string;
  readonly ephemeralId = randomUUID();
  private sequence = 0;
  private previous: { atMs: number; totals: Record<Dataset, number> };

  constructor(private readonly options: HealthReporterOptions) {
    this.agentId = createHash('sha256').update(`provmon-agent:${options.host.id}`).digest('hex').slice(0, 32);
    this.previous = { atMs: options.startedAtMs, totals: Object.fromEntries(DATA_DATASETS.map((d) => [d, 0])) as Record<Dataset, number> };
  }

  /** The health document for this sample; rates are measured since the previous call. */
  document(sample: HealthSample): EcsEvent {
    const { host, namespace, startedAtMs } = this.options;
    const intervalS = Math.max(1e-3, (sample.atMs - this.previous.atMs) / 1000);
    const perDataset = (f: (d: DataDataset) => number) => Object.fromEntries(DATA_DATASETS.map((d) => [d, f(d)])) as Record<DataDataset, number>;
    const k = sample.capture?.kernel;
    const health: SensorHealth = {
      uptime_s: Math.round((sample.atMs - startedAtMs) / 1000),
      interval_s: Math.round(intervalS),
      events_per_s: perDataset((d) => Math.round((sample.totals[d] - (this.previous.totals[d] ?? 0)) / intervalS)),
      events_total: perDataset((d) => sample.totals[d]),
      ring: {
        dropped: k?.dropped ?? 0,
        dropped_by_class: { critical: k?.droppedCritical ?? 0, net: k?.droppedNet ?? 0, high: k?.droppedHigh ?? 0, low: k?.droppedLow ?? 0 },
        lost: k?.lost ?? 0,
        pending_bytes: sample.capture?.ringPendingBytes ?? 0,
      },
      queue: { bytes: k?.queueBytes ?? 0, full_waits: k?.queueFullWaits ?? 0 },
      pcap: { received: sample.pcap?.received ?? 0, dropped: sample.pcap?.dropped ?? 0, interface_dropped: sample.pcap?.interfaceDropped ?? 0 },
      output: {
        name: sample.output.name,
        spool_bytes: sample.output.counters.spool_bytes ?? 0,
        dropped: (sample.output.counters.dropped ?? 0) + (sample.output.counters.evicted ?? 0),
        counters: sample.output.counters,
      },
      rss_bytes: sample.rssBytes,
      features: Object.fromEntries(sample.features.map((f) => [f.feature, f.using])),
      fallbacks: sample.features.filter((f) => f.fallbackReason !== undefined).map((f) => f.feature),
      capture: sample.enabled,
    };
    this.previous = { atMs: sample.atMs, totals: { ...sample.totals } };
    const sequence = this.sequence++;
    return {
      '@timestamp': new Date(sample.atMs).toISOString(),
      event: {
        kind: 'metric',
        category: ['host'],
        type: ['info'],
        action: 'sensor_health',
        dataset: 'provmon.health',
        module: 'provmon',
        id: createHash('sha256').update(`${this.ephemeralId}:${sequence}`).digest('base64url').slice(0, 27),
        sequence,
      },
      host: { name: host.name, id: host.id, hostname: host.name },
      agent: { type: 'provmon', version: PROVMON_VERSION, name: host.name, id: this.agentId, ephemeral_id: this.ephemeralId },
      data_stream: { type: 'logs', dataset: 'provmon.health', namespace },
      provmon: { health },
    };
  }
}
