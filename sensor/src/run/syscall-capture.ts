import { readFileSync } from 'node:fs';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import type { Config } from '../config/schema.ts';
import { BootClock } from '../ebpf/clock.ts';
import { startCapture, type Capture, type CaptureStats } from '../ebpf/capture.ts';
import type { FeatureChoice } from '../ebpf/features.ts';
import { loadSensor, type BpfSensor } from '../ebpf/loader.ts';
import type { Logger } from '../log/logger.ts';
import { markEscapedFields } from '../model/escaped-fields.ts';
import { FdTable } from '../model/fd-table.ts';
import type { HostIdentity } from '../model/host.ts';
import { scanProcesses } from '../model/proc-scan.ts';
import { ProcessTable } from '../model/process-table.ts';
import { SyscallEventBuilder } from '../model/syscall-events.ts';

export interface SyscallCaptureStats {
  kernel: CaptureStats;
  ringPendingBytes: number;
  processes: number;
  unattributedIo: number;
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
  } catch {
    return '00000000';
  }
}

/**
 * eBPF capture as documents: loads and attaches the programs, seeds the process and fd tables from /proc, and turns
 * ring-buffer records into ECS documents handed to `emit` (the ring is drained on a timer by ebpf/capture.ts).
 */
export class SyscallCapture {
  readonly processes: ProcessTable;
  readonly fds = new FdTable();
  private readonly bpf: BpfSensor;
  private readonly builder: SyscallEventBuilder;
  private readonly clock = new BootClock();
  private readonly capture: Capture;
  private readonly housekeeping: ReturnType<typeof setInterval>;

  constructor(
    config: Config,
    private readonly host: HostIdentity,
    private readonly emit: (doc: EcsEvent) => void,
    private readonly log: Logger,
  ) {
    const ebpf = config.ebpf_config;
    this.bpf = loadSensor({
      ringBytes: ebpf.ring_buffer_mb * 1024 * 1024,
      filters: {
        ownTgids: [process.pid],
        noise: ebpf.noise,
        pathPrefixes: ebpf.path_prefixes,
        netAllow: ebpf.network_allowlist,
      },
      fold: ebpf.fold,
      forceFallback: ebpf.force_fallback,
      log: (level, line) => log.debug({ libbpf: level }, line.trimEnd()),
    });
    for (const f of this.bpf.features) {
      if (f.fallbackReason) log.warn({ feature: f.feature, using: f.using, reason: f.fallbackReason }, `eBPF feature ${f.feature} not used: fallback ${f.using}`);
    }
    if (this.bpf.unavailable.length) log.warn({ programs: this.bpf.unavailable }, 'tracepoints missing in this kernel; those syscalls are not captured');
    // Attached first, scanned second: a process forked in between is seen by both, never by neither.
    this.processes = new ProcessTable({ host });
    const snapshots = scanProcesses();
    this.processes.seedFromProc(snapshots);
    this.fds.seedFromProc(snapshots.map((s) => s.pid));
    this.builder = new SyscallEventBuilder({
      host,
      processes: this.processes,
      fds: this.fds,
      toIso: (ns) => this.clock.toIso(ns),
      toEpochMs: (ns) => this.clock.toEpochMs(ns),
      namespace: config.es_config.namespace,
      bootId: readBootId(),
    });
    const at = new Date().toISOString();
    let seq = 0;
    for (const s of snapshots) {
      const info = this.processes.get(s.pid);
      if (info) emit(markEscapedFields(this.builder.alreadyRunning(info, at, seq++)));
    }
    const emitMarked = (doc: EcsEvent): void => emit(markEscapedFields(doc));
    this.capture = startCapture(this.bpf, {
      onRecord: (rec) => this.builder.handle(rec, emitMarked),
      flushMs: ebpf.flush_interval * 1000,
      queueBytes: ebpf.queue_mb * 1024 * 1024,
      onDrainFailure: (reason) => log.error({ drain: 'inline', reason }, `the drain thread failed (${reason}): draining the ring on the capture thread`),
    });
    this.housekeeping = setInterval(() => {
      this.processes.expire(Date.now());
      this.clock.sync(); // follow NTP steps
    }, ebpf.flush_interval * 1000);
    log.info(
      {
        programs: this.bpf.programCount,
        processes: snapshots.length,
        ring_mb: ebpf.ring_buffer_mb,
        features: Object.fromEntries(this.bpf.features.map((f) => [f.feature, f.using])),
        fold: ebpf.fold,
      },
      'eBPF capture attached',
    );
  }

  /** each optional kernel feature and what runs in its place (for health documents) */
  get features(): FeatureChoice[] {
    return this.bpf.features;
  }

  stats(): SyscallCaptureStats {
    return {
      kernel: this.capture.stats(),
      ringPendingBytes: this.bpf.ring.pending(),
      processes: this.processes.size,
      unattributedIo: this.builder.stats.unattributedIo,
    };
  }

  /** Stops producing, then hands over everything the kernel still holds: open fds' aggregates and the ring's tail. */
  stop(): SyscallCaptureStats {
    clearInterval(this.housekeeping);
    this.bpf.detach();
    this.capture.stop();
    const final = this.stats();
    this.bpf.close();
    return final;
  }
}
