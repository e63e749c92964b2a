/**
 * The consumer loop for `provmon run`: drains the ring on a short timer (the kernel side
 * never wakes user space: records are written with BPF_RB_NO_WAKEUP), flushes the kernel's
 * read/write aggregates on a longer one, and accounts for every record.
 *
 *   const sensor = loadSensor({ filters: { ownTgids: [process.pid] } });
 *   const cap = startCapture(sensor, { onRecord: (r) => table.apply(r) });
 *   ...
 *   cap.stop();          // final flush + drain: nothing left in the kernel
 *   sensor.close();
 */
import type { BpfSensor, KernelStats } from './loader.ts';
import type { PmRecord } from './records.ts';

export interface CaptureOptions {
  onRecord: (r: PmRecord) => void;
  /** ring drain period; the ring must hold this long of peak traffic. Default 10 ms */
  pollMs?: number;
  /** aggregate flush period (open fds report their counters this often). Default 5000 ms */
  flushMs?: number;
  /** records handed over per drain before yielding to the event loop. Default 65536 */
  batch?: number;
}

export interface CaptureStats extends KernelStats {
  /** records user space took off the ring (unknown ones included) */
  received: number;
  /** ... of which this build does not know the kind (counted, not decoded) */
  unknown: number;
  /** produced − dropped − received: still in the ring (0 after stop) */
  inFlight: number;
}

export interface Capture {
  stats(): CaptureStats;
  /** flush the aggregates now (also runs on the timer) */
  flush(): void;
  /** stop timers, flush the aggregates and drain the ring completely */
  stop(): void;
}

export function startCapture(sensor: BpfSensor, opts: CaptureOptions): Capture {
  const pollMs = opts.pollMs ?? 10;
  const flushMs = opts.flushMs ?? 5000;
  const batch = opts.batch ?? 65536;
  let received = 0;
  let stopped = false;

  const drain = (limit: number): number => {
    const n = sensor.ring.drain(opts.onRecord, limit);
    received += n;
    return n;
  };
  const poll = () => {
    if (stopped) return; // a poll queued before stop() must not touch a ring that may be unmapped by now
    // a full batch means more is waiting: come back right away instead of after pollMs
    if (drain(batch) === batch) setImmediate(poll);
  };
  const pollTimer = setInterval(poll, pollMs);
  const flushTimer = setInterval(() => sensor.flush(), flushMs);

  return {
    stats() {
      const k = sensor.stats();
      return { ...k, received, unknown: sensor.ring.unknown, inFlight: k.produced - k.dropped - received };
    },
    flush() {
      sensor.flush();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pollTimer);
      clearInterval(flushTimer);
      sensor.flush();
      while (drain(Infinity) > 0);
    },
  };
}
