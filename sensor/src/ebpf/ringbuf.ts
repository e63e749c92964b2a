/**
 * BPF ring buffer consumers.
 *
 * MmapRing (the one the sensor uses) maps the ring into this process and walks it in
 * JavaScript, following the kernel's protocol (kernel/bpf/ringbuf.c):
 *   page 0 (rw):  consumer_pos (u64) — ours to advance
 *   page 1 (ro):  producer_pos (u64) — the kernel's
 *   then the data area, mapped twice back to back so a record that wraps is contiguous.
 *   Each record: u32 len | BUSY(1<<31) | DISCARD(1<<30), u32 page offset, payload,
 *   padded to 8 bytes. A BUSY record is still being written: stop there.
 * No FFI call per record, no wakeup: the caller polls on a timer.
 *
 * LibbpfRing wraps ring_buffer__new/consume with a JSCallback per record. It exists for
 * the measurement in ringbuf.bench.ts (docs/ebpf.md has the figures).
 */
import { JSCallback, toArrayBuffer, FFIType, type Pointer } from 'bun:ffi';
import { libbpf, libc, lastErrno, pageSize, asPtr } from './libbpf.ts';
import { decodeRecord, type PmRecord } from './records.ts';

const BUSY = 0x80000000 | 0;
const DISCARD = 0x40000000;
const LEN_MASK = 0x3fffffff;

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/** mmap returns (void *)-1 on failure; user addresses stay far below 2^48 */
const badPtr = (p: Pointer | null) => !p || (p as number) >= 2 ** 48;

/** A raw record handler; returning false stops the walk before that record (it stays in the ring). */
export type RawHandler = (dv: DataView, u8: Uint8Array, off: number, len: number) => void | boolean;
export type RecordHandler = (rec: PmRecord) => void;

export class MmapRing {
  readonly size: number;
  private readonly page: number;
  private consPtr: number;
  private dataPtr: number;
  private cons64: BigUint64Array;
  private prod64: BigUint64Array;
  private i32: Int32Array;
  private u8: Uint8Array;
  private dv: DataView;
  private pos: number;
  /** records that did not decode (unknown kind): counted, never silently lost */
  unknown = 0;

  constructor(mapFd: number, size: number) {
    const c = libc();
    this.size = size;
    this.page = pageSize();
    const cons = asPtr(c.mmap(null, BigInt(this.page), PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0n));
    if (badPtr(cons)) throw new Error(`mmap ring consumer page: errno ${lastErrno()}`);
    const data = asPtr(c.mmap(null, BigInt(this.page + 2 * size), PROT_READ, MAP_SHARED, mapFd, BigInt(this.page)));
    if (badPtr(data)) {
      const e = lastErrno();
      c.munmap(cons as Pointer, BigInt(this.page));
      throw new Error(`mmap ring data: errno ${e}`);
    }
    this.consPtr = cons as number;
    this.dataPtr = data as number;
    this.cons64 = new BigUint64Array(toArrayBuffer(cons as Pointer, 0, 8));
    this.prod64 = new BigUint64Array(toArrayBuffer(data as Pointer, 0, 8));
    const area = toArrayBuffer(data as Pointer, this.page, 2 * size);
    this.i32 = new Int32Array(area);
    this.u8 = Buffer.from(area); // a Buffer: the decoder uses its utf8Slice for strings
    this.dv = new DataView(area);
    this.pos = Number(Atomics.load(this.cons64, 0));
  }

  /** bytes written by the kernel and not consumed yet (by whichever mapping consumes: the drain thread has its own) */
  pending(): number {
    return Number(this.prod64[0]) - Number(Atomics.load(this.cons64, 0));
  }

  /** Take the consumer position from the kernel page again (another mapping of this ring consumed meanwhile). */
  resync(): void {
    this.pos = Number(Atomics.load(this.cons64, 0));
  }

  /** Walk up to `max` records, calling fn with views over the mapped data. Returns records seen. */
  drainRaw(fn: RawHandler, max = Infinity): number {
    const size = this.size;
    const i32 = this.i32;
    let pos = this.pos;
    let prod = Number(this.prod64[0]);
    let n = 0;
    while (n < max) {
      if (pos >= prod) {
        prod = Number(this.prod64[0]);
        if (pos >= prod) break;
      }
      const off = pos % size;
      // Plain loads: JSC's optimizing tiers implement Atomics.load with a locked read-modify-write, which faults on
      // these read-only kernel pages (seen as a SIGSEGV once the loop got hot). x86-64 keeps loads in order; the
      // kernel publishes each header with a store-release.
      const hdr = i32[off >> 2]!;
      if (hdr & BUSY) break;
      const len = hdr & LEN_MASK;
      if (!(hdr & DISCARD) && fn(this.dv, this.u8, off + 8, len) === false) break;
      pos += (len + 15) & ~7; // 8-byte header + payload, rounded up to 8
      n++;
      // hand space back regularly so the kernel can keep writing during a long drain
      if ((n & 1023) === 0) Atomics.store(this.cons64, 0, BigInt(pos));
    }
    if (pos !== this.pos) {
      this.pos = pos;
      Atomics.store(this.cons64, 0, BigInt(pos));
    }
    return n;
  }

  /** Decode and hand over up to `max` records. */
  drain(fn: RecordHandler, max = Infinity): number {
    return this.drainRaw((dv, u8, off, len) => {
      const rec = decodeRecord(dv, u8, off, len);
      if (rec) fn(rec);
      else this.unknown++;
    }, max);
  }

  close(): void {
    if (!this.dataPtr) return;
    const c = libc();
    // Every view of the mapping is replaced before munmap: a late drain() must find an empty ring, not freed pages.
    this.i32 = new Int32Array(0);
    this.u8 = new Uint8Array(0);
    this.dv = new DataView(new ArrayBuffer(0));
    this.prod64 = new BigUint64Array(1);
    this.cons64 = new BigUint64Array(1);
    this.pos = 0;
    c.munmap(this.dataPtr as Pointer, BigInt(this.page + 2 * this.size));
    c.munmap(this.consPtr as Pointer, BigInt(this.page));
    this.dataPtr = 0;
    this.consPtr = 0;
  }
}

/** libbpf's consumer: ring_buffer__consume calls back into JS once per record. */
export class LibbpfRing {
  private rb: Pointer | null;
  private cb: JSCallback;
  private handler: RawHandler = () => {};
  unknown = 0;

  constructor(mapFd: number) {
    this.cb = new JSCallback(
      (_ctx: Pointer, data: Pointer, size: number | bigint) => {
        const len = Number(size);
        const ab = toArrayBuffer(data, 0, len);
        this.handler(new DataView(ab), Buffer.from(ab), 0, len);
        return 0;
      },
      { args: [FFIType.ptr, FFIType.ptr, FFIType.u64_fast], returns: FFIType.i32 },
    );
    this.rb = asPtr(libbpf().ring_buffer__new(mapFd, this.cb.ptr, null, null));
    if (!this.rb) {
      this.cb.close();
      throw new Error(`ring_buffer__new: errno ${lastErrno()}`);
    }
  }

  drainRaw(fn: RawHandler): number {
    this.handler = fn;
    const n = libbpf().ring_buffer__consume(this.rb);
    if (n < 0) throw new Error(`ring_buffer__consume: ${n}`);
    return n;
  }

  drain(fn: RecordHandler): number {
    return this.drainRaw((dv, u8, off, len) => {
      const rec = decodeRecord(dv, u8, off, len);
      if (rec) fn(rec);
      else this.unknown++;
    });
  }

  close(): void {
    if (this.rb) libbpf().ring_buffer__free(this.rb);
    this.rb = null;
    this.cb.close();
  }
}
