/**
 * A single-producer single-consumer byte queue of ring-buffer records in shared memory: the
 * drain thread copies records off the kernel ring into it, the capture thread decodes them.
 * It extends the kernel ring with user memory, so a slow sink (disk, index, Elasticsearch)
 * makes the queue grow instead of the kernel dropping records.
 *
 * Layout: `pos` holds the write and read positions (bytes, ever increasing: int64, they never
 * wrap); `data` is the byte ring, a power of two. Each record is framed as u32 length + payload,
 * padded to 8 bytes. A record that does not fit before the end of the ring leaves a WRAP frame and
 * starts again at offset 0, so every record is contiguous and the consumer decodes it in place.
 *
 * Memory ordering: the producer writes payloads, then publishes its write position with an
 * Atomics store (once per batch: `publish()`); the consumer Atomics-loads that position before
 * reading payload bytes, and publishes its read position the same way, which is what tells the
 * producer that space is free again.
 */

const WRAP = 0xffffffff;
/** ctl Int32 slots */
export const CTL = {
  /** bumped by the producer after each publish (the consumer may Atomics.wait on it) */
  WSEQ: 0,
  /** 1 once the drain thread has mapped the ring */
  STARTED: 1,
  /** drain requests made by the consumer / acknowledged by the producer (see requestDrain) */
  REQ: 2,
  ACK: 3,
  /** the producer found the queue full and left records in the kernel ring (times) */
  FULL: 4,
  /** set to 1 to ask the producer to exit */
  STOP: 5,
  SLOTS: 8,
} as const;

/** ctl[CTL.STOP]: asked by the consumer, then set by the drain thread once it has unmapped the ring */
export const STOP_ASKED = 1;
export const STOPPED = 2;

/** The drain thread's start message (drain-worker.ts). */
export interface DrainStart {
  ringFd: number;
  ringBytes: number;
  queue: QueueBuffers;
  pollMs: number;
}

export interface QueueBuffers {
  ctl: SharedArrayBuffer;
  pos: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

export function createQueueBuffers(bytes: number): QueueBuffers {
  if (!Number.isInteger(bytes) || bytes < 4096 || (bytes & (bytes - 1)) !== 0) {
    throw new Error(`record queue size ${bytes} is not a power of two of at least 4096 bytes`);
  }
  return { ctl: new SharedArrayBuffer(CTL.SLOTS * 4), pos: new SharedArrayBuffer(16), data: new SharedArrayBuffer(bytes) };
}

const pad8 = (n: number) => (n + 7) & ~7;

export class RecordQueue {
  readonly ctl: Int32Array;
  readonly capacity: number;
  private readonly pos: BigInt64Array;
  private readonly u32: Uint32Array;
  /** a Buffer over the data: the record decoder uses its utf8Slice for strings */
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** producer side: write position not yet published, and the last read position seen */
  private w: number;
  private readSeen: number;

  constructor(readonly buffers: QueueBuffers) {
    this.ctl = new Int32Array(buffers.ctl);
    this.pos = new BigInt64Array(buffers.pos);
    this.u32 = new Uint32Array(buffers.data);
    this.u8 = Buffer.from(buffers.data);
    this.dv = new DataView(buffers.data);
    this.capacity = buffers.data.byteLength;
    this.w = Number(Atomics.load(this.pos, 0));
    this.readSeen = Number(Atomics.load(this.pos, 1));
  }

  /** bytes in the queue (published) */
  used(): number {
    return Number(Atomics.load(this.pos, 0)) - Number(Atomics.load(this.pos, 1));
  }

  /** Producer: append src[off, off+len). false when it does not fit (nothing written). Visible after publish(). */
  push(src: Uint8Array, off: number, len: number): boolean {
    const cap = this.capacity;
    const need = 8 + pad8(len);
    let w = this.w;
    const at = w % cap;
    const tail = cap - at;
    const total = need > tail ? need + tail : need;
    if (w + total - this.readSeen > cap) {
      this.readSeen = Number(Atomics.load(this.pos, 1));
      if (w + total - this.readSeen > cap) return false;
    }
    if (need > tail) {
      // not contiguous before the end: a WRAP frame, then the record from offset 0
      this.u32[at >> 2] = WRAP;
      w += tail;
    }
    const start = w % cap;
    this.u32[start >> 2] = len;
    this.u8.set(src.subarray(off, off + len), start + 8);
    this.w = w + need;
    return true;
  }

  /** Producer: make everything pushed so far visible to the consumer. */
  publish(): void {
    if (Number(Atomics.load(this.pos, 0)) === this.w) return;
    Atomics.store(this.pos, 0, BigInt(this.w));
    Atomics.add(this.ctl, CTL.WSEQ, 1);
    Atomics.notify(this.ctl, CTL.WSEQ);
  }

  /** Consumer: hand up to `max` records to fn (views over the queue, valid during the call). Returns records. */
  pop(fn: (dv: DataView, u8: Uint8Array, off: number, len: number) => void, max = Infinity): number {
    const cap = this.capacity;
    const w = Number(Atomics.load(this.pos, 0));
    let r = Number(Atomics.load(this.pos, 1));
    let n = 0;
    while (r < w && n < max) {
      const at = r % cap;
      const len = this.u32[at >> 2]!;
      if (len === WRAP) {
        r += cap - at;
        continue;
      }
      fn(this.dv, this.u8, at + 8, len);
      r += 8 + pad8(len);
      n++;
      if ((n & 1023) === 0) Atomics.store(this.pos, 1, BigInt(r));
    }
    Atomics.store(this.pos, 1, BigInt(r));
    return n;
  }
}
