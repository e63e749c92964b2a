/**
 * The drain thread (a Bun Worker): copies records off the kernel ring into the shared
 * RecordQueue and never waits for the sink. It maps the ring itself (same map fd, its own
 * mapping) and is the only consumer while it runs. When the queue is full it stops taking
 * records, so they stay in the kernel ring, where the priority classes decide what is shed:
 * backpressure reaches the kernel instead of an unclassified drop in user space.
 */
import { MmapRing } from './ringbuf.ts';
import { CTL, RecordQueue, STOP_ASKED, STOPPED, type DrainStart } from './record-queue.ts';

declare const self: Worker;

self.onmessage = (event: MessageEvent<DrainStart>) => {
  const start = event.data;
  const ring = new MmapRing(start.ringFd, start.ringBytes);
  const queue = new RecordQueue(start.queue);
  const ctl = queue.ctl;
  Atomics.store(ctl, CTL.STARTED, 1);
  Atomics.notify(ctl, CTL.STARTED);
  let full = false;
  const copy = (_dv: DataView, u8: Uint8Array, off: number, len: number): boolean => {
    if (queue.push(u8, off, len)) return true;
    full = true;
    return false;
  };
  for (;;) {
    const request = Atomics.load(ctl, CTL.REQ);
    const stopping = Atomics.load(ctl, CTL.STOP) === STOP_ASKED;
    full = false;
    let n: number;
    let taken = 0;
    do {
      n = ring.drainRaw(copy, 65536);
      taken += n;
      queue.publish();
    } while (n > 0 && !full);
    if (full) Atomics.add(ctl, CTL.FULL, 1);
    else if (Atomics.load(ctl, CTL.ACK) !== request) {
      // the ring was empty after the request was made: everything produced before it is in the queue
      Atomics.store(ctl, CTL.ACK, request);
      Atomics.notify(ctl, CTL.ACK);
    }
    if (stopping) break;
    // sleep until the next poll or a drain request; 1 ms while records are flowing (a burst fills the kernel ring
    // in milliseconds) or while the queue is full (the consumer is making room)
    Atomics.wait(ctl, CTL.REQ, request, full || taken > 0 ? 1 : start.pollMs);
  }
  ring.close();
  Atomics.store(ctl, CTL.STOP, STOPPED);
  Atomics.notify(ctl, CTL.STOP);
};
