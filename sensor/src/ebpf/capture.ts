/**
 * The consumer loop for `provmon run`. A drain thread (drain-worker.ts) copies records off the
 * kernel ring into a shared user-memory queue as they arrive and never waits for the sink; this
 * thread decodes them from the queue on a short timer and hands them to `onRecord` (the model,
 * the documents, the sink). A slow sink therefore grows the queue (bounded: `queueBytes`)
 * instead of filling the kernel ring. The kernel side never wakes user space (records are
 * written with BPF_RB_NO_WAKEUP): both threads poll. The read/write aggregates are flushed on a
 * longer timer, and every record is accounted for.
 *
 *   const sensor = loadSensor({ filters: { ownTgids: [process.pid] } });
 *   const cap = startCapture(sensor, { onRecord: (r) => table.apply(r) });
 *   ...
 *   cap.stop();          // final flush + drain: nothing left in the kernel or the queue
 *   sensor.close();
 *
 * With `queueBytes: 0` the ring is drained on this thread directly (no worker).
 */
import { drainWorkerUrl } from '../install-layout.ts';
import type { BpfSensor, KernelStats } from './loader.ts';
import { decodeRecord, type PmRecord } from './records.ts';
import { CTL, RecordQueue, STOP_ASKED, STOPPED, createQueueBuffers, type DrainStart } from './record-queue.ts';

export interface CaptureOptions {
  onRecord: (r: PmRecord) => void;
  /** ring drain period; the ring (plus the queue) must hold this long of peak traffic. Default 10 ms */
  pollMs?: number;
  /** aggregate flush period (open fds report their counters this often). Default 5000 ms */
  flushMs?: number;
  /** records handed over per poll before yielding to the event loop. Default 65536 */
  batch?: number;
  /** user-memory queue between the drain thread and this one, bytes (a power of two); 0: no drain thread. Default 64 MiB */
  queueBytes?: number;
  /** the drain thread failed: capture continues on this thread; the reason is also in stats() */
  onDrainFailure?: (reason: string) => void;
}

export interface CaptureStats extends KernelStats {
  /** records user space took off the ring and decoded (unknown ones included) */
  received: number;
  /** ... of which this build does not know the kind (counted, not decoded) */
  unknown: number;
  /** produced − dropped − received: still in the ring or the queue (0 after stop) */
  inFlight: number;
  /** bytes waiting in the user-memory queue, and its size (0: no drain thread) */
  queueBytes: number;
  queueCapacity: number;
  /** times the drain thread found the queue full and left records in the kernel ring (not a loss by itself) */
  queueFullWaits: number;
  /** 'thread', 'inline' (queueBytes 0), or 'inline after drain thread failure: …' */
  drain: string;
}

export interface Capture {
  stats(): CaptureStats;
  /** flush the aggregates now (also runs on the timer) */
  flush(): void;
  /** stop timers, flush the aggregates and drain the ring (and the queue) completely */
  stop(): void;
}

export function startCapture(sensor: BpfSensor, opts: CaptureOptions): Capture {
  const pollMs = opts.pollMs ?? 10;
  const flushMs = opts.flushMs ?? 5000;
  const batch = opts.batch ?? 65536;
  const queueBytes = opts.queueBytes ?? 64 * 1024 * 1024;
  let received = 0;
  let unknown = 0;
  let stopped = false;

  const decode = (dv: DataView, u8: Uint8Array, off: number, len: number) => {
    const rec = decodeRecord(dv, u8, off, len);
    if (rec) opts.onRecord(rec);
    else unknown++;
  };
  const drainInline = (limit: number): number => {
    const n = sensor.ring.drainRaw(decode, limit);
    received += n;
    return n;
  };

  let drain = queueBytes > 0 ? 'thread' : 'inline';
  let relay: DrainRelay | undefined;
  if (queueBytes > 0) {
    relay = new DrainRelay(sensor, queueBytes, pollMs, (reason) => {
      drain = `inline after drain thread failure: ${reason}`;
      relay = undefined;
      sensor.ring.resync(); // the worker consumed up to somewhere: continue from the kernel's consumer position
      opts.onDrainFailure?.(reason);
    });
  }
  const take = (limit: number): number => {
    if (!relay) return drainInline(limit);
    const n = relay.queue.pop(decode, limit);
    received += n;
    return n;
  };

  const poll = () => {
    if (stopped) return; // a poll queued before stop() must not touch a ring that may be unmapped by now
    // a full batch means more is waiting: come back right away instead of after pollMs
    if (take(batch) === batch) setImmediate(poll);
  };
  const pollTimer = setInterval(poll, pollMs);
  const flushTimer = setInterval(() => sensor.flush(), flushMs);

  return {
    stats() {
      const k = sensor.stats();
      return {
        ...k,
        received,
        unknown: unknown + sensor.ring.unknown,
        inFlight: k.produced - k.dropped - received,
        queueBytes: relay?.queue.used() ?? 0,
        queueCapacity: relay?.queue.capacity ?? 0,
        queueFullWaits: relay ? Atomics.load(relay.queue.ctl, CTL.FULL) : 0,
        drain,
      };
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
      if (relay && !relay.drainAll(take)) {
        drain = 'inline after drain thread failure: it did not finish the final drain';
        relay = undefined;
        sensor.ring.resync();
      }
      if (relay) {
        relay.stop(take);
        relay = undefined;
        sensor.ring.resync(); // the drain thread consumed with its own mapping: continue from where it stopped
      }
      while (drainInline(Infinity) > 0);
    },
  };
}

/** The drain thread and its queue, seen from the capture thread. */
class DrainRelay {
  readonly queue: RecordQueue;
  private readonly worker: Worker;
  private failed = false;

  constructor(sensor: BpfSensor, queueBytes: number, pollMs: number, onFailure: (reason: string) => void) {
    this.queue = new RecordQueue(createQueueBuffers(queueBytes));
    this.worker = new Worker(drainWorkerUrl());
    this.worker.onerror = (event) => {
      if (this.failed) return;
      this.failed = true;
      this.worker.terminate();
      onFailure(event.message);
    };
    const start: DrainStart = { ringFd: sensor.mapFd('events'), ringBytes: sensor.ringBytes, queue: this.queue.buffers, pollMs };
    this.worker.postMessage(start);
    // A worker that never started cannot have consumed anything; waiting here keeps stop() simple.
    if (Atomics.wait(this.queue.ctl, CTL.STARTED, 0, 10_000) === 'timed-out' && Atomics.load(this.queue.ctl, CTL.STARTED) === 0) {
      this.failed = true;
      this.worker.terminate();
      onFailure('the drain thread did not start within 10 s');
    }
  }

  /** Ask for everything produced so far and consume it; false if the thread does not answer. */
  drainAll(take: (limit: number) => number): boolean {
    if (this.failed) return false;
    const ctl = this.queue.ctl;
    const request = Atomics.add(ctl, CTL.REQ, 1) + 1;
    Atomics.notify(ctl, CTL.REQ);
    const deadline = Date.now() + 30_000;
    for (;;) {
      take(Infinity);
      if (Atomics.load(ctl, CTL.ACK) === request && this.queue.used() === 0) return true;
      if (this.failed || Date.now() > deadline) return false;
      Atomics.wait(ctl, CTL.WSEQ, Atomics.load(ctl, CTL.WSEQ), 5);
    }
  }

  stop(take: (limit: number) => number): void {
    const ctl = this.queue.ctl;
    if (!this.failed) {
      Atomics.store(ctl, CTL.STOP, STOP_ASKED);
      Atomics.add(ctl, CTL.REQ, 1);
      Atomics.notify(ctl, CTL.REQ);
      const deadline = Date.now() + 5_000;
      while (Atomics.load(ctl, CTL.STOP) !== STOPPED && Date.now() < deadline) {
        take(Infinity);
        Atomics.wait(ctl, CTL.STOP, STOP_ASKED, 5);
      }
      take(Infinity);
    }
    this.worker.terminate();
  }
}
