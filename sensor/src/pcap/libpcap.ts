/**
 * libpcap (Debian's libpcap.so.0.8) through bun:ffi: live capture with a kernel BPF filter, and
 * offline reading through libpcap for cross-checks. No native addon: every call is a dlopen'd symbol.
 *
 * Packets are pulled with pcap_next_ex in non-blocking mode and copied (one memcpy) into a
 * JS-owned buffer, so each packet costs two FFI calls and a few pointer reads and allocates
 * nothing; the PacketRecord handed to the callback points into that buffer.
 */
import { dlopen, type Pointer, ptr, read } from 'bun:ffi';
import { readdirSync } from 'node:fs';
import { ProvmonError } from '../errors.ts';
import { PacketRecord } from './packet-record.ts';

const PCAP_ERRBUF_SIZE = 256;
const PCAP_NETMASK_UNKNOWN = 0xffffffff;
const PCAP_TSTAMP_PRECISION_NANO = 1;

// pcap_activate() results (pcap/pcap.h)
const PCAP_ERROR_NO_SUCH_DEVICE = -5;
const PCAP_ERROR_PERM_DENIED = -8;
const PCAP_ERROR_IFACE_NOT_UP = -9;
const PCAP_ERROR_PROMISC_PERM_DENIED = -11;
const PCAP_WARNING_PROMISC_NOTSUP = 2;

/** DLT values pcap_set_datalink accepts for `any` */
const DLT_BY_NAME: Record<string, number> = { LINUX_SLL: 113, LINUX_SLL2: 276, EN10MB: 1 };

function openLibpcap() {
  try {
    return dlopen('libpcap.so.0.8', {
      pcap_lib_version: { args: [], returns: 'cstring' },
      pcap_create: { args: ['cstring', 'ptr'], returns: 'ptr' },
      pcap_open_offline_with_tstamp_precision: { args: ['cstring', 'i32', 'ptr'], returns: 'ptr' },
      pcap_set_snaplen: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_set_promisc: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_set_timeout: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_set_buffer_size: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_set_immediate_mode: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_set_tstamp_precision: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_activate: { args: ['ptr'], returns: 'i32' },
      pcap_set_datalink: { args: ['ptr', 'i32'], returns: 'i32' },
      pcap_datalink: { args: ['ptr'], returns: 'i32' },
      pcap_setnonblock: { args: ['ptr', 'i32', 'ptr'], returns: 'i32' },
      pcap_compile: { args: ['ptr', 'ptr', 'cstring', 'i32', 'u32'], returns: 'i32' },
      pcap_setfilter: { args: ['ptr', 'ptr'], returns: 'i32' },
      pcap_freecode: { args: ['ptr'], returns: 'void' },
      pcap_next_ex: { args: ['ptr', 'ptr', 'ptr'], returns: 'i32' },
      pcap_stats: { args: ['ptr', 'ptr'], returns: 'i32' },
      pcap_geterr: { args: ['ptr'], returns: 'cstring' },
      pcap_statustostr: { args: ['i32'], returns: 'cstring' },
      pcap_close: { args: ['ptr'], returns: 'void' },
    });
  } catch (error) {
    throw new ProvmonError('cannot load libpcap.so.0.8', {
      hint: 'install it: apt-get install libpcap0.8 (or libpcap-dev)',
      cause: error,
    });
  }
}

function openLibc() {
  return dlopen('libc.so.6', { memcpy: { args: ['ptr', 'ptr', 'u64'], returns: 'ptr' } });
}

let lib: ReturnType<typeof openLibpcap> | undefined;
let libc: ReturnType<typeof openLibc> | undefined;

function pcapLib(): ReturnType<typeof openLibpcap> {
  lib ??= openLibpcap();
  return lib;
}

export function libpcapVersion(): string {
  return String(pcapLib().symbols.pcap_lib_version());
}

export interface LiveCaptureOptions {
  /** interface name, or "any" for all interfaces (Linux cooked link type) */
  interface: string;
  /** kernel BPF filter in pcap-filter(7) syntax; empty captures everything */
  filter?: string;
  /** bytes kept per packet (default 262144: whole packets) */
  snapLen?: number;
  /** kernel ring size in bytes (default 32 MiB); bigger absorbs longer bursts before ps_drop grows */
  bufferSize?: number;
  promiscuous?: boolean;
  /** packet buffer timeout in ms (default 100): the latency libpcap may add to batch packets */
  timeoutMs?: number;
  /**
   * Deliver each packet as soon as it arrives (more wake-ups, less batching). On Linux libpcap then
   * uses TPACKET_V2, one fixed slot of ~snapLen bytes per packet, so the ring holds only
   * bufferSize / snapLen packets: lower snapLen (e.g. 2048) or bursts are dropped (ps_drop).
   */
  immediate?: boolean;
  /** link type to ask for, e.g. "LINUX_SLL2" on "any" to learn the interface index */
  linkType?: 'LINUX_SLL' | 'LINUX_SLL2' | 'EN10MB';
}

export interface CaptureStats {
  /** packets the kernel handed to the capture (ps_recv) */
  received: number;
  /** packets dropped because the ring was full (ps_drop): the sensor fell behind */
  dropped: number;
  /** packets dropped by the interface or driver (ps_ifdrop) */
  interfaceDropped: number;
}

/** pcap_stat fields are 32-bit and wrap; this keeps 64-bit-safe running totals. */
class WrappingCounter {
  private last = 0;
  total = 0;
  update(raw: number): number {
    const delta = raw >= this.last ? raw - this.last : raw + 2 ** 32 - this.last;
    this.last = raw;
    this.total += delta;
    return this.total;
  }
}

/** larger than any snap length libpcap allows (262144) */
const BATCH_BYTES = 512 * 1024;

/** A libpcap handle (live or offline) read packet by packet into a reusable PacketRecord. */
export class PcapHandle {
  readonly linkType: number;
  readonly warnings: string[];
  private handle: Pointer | null;
  private readonly scratch = new BigUint64Array(4); // [0] pkthdr*, [1] data*, [2..3] struct bpf_program / pcap_stat
  private readonly hdrSlot: Pointer;
  private readonly dataSlot: Pointer;
  private readonly batch = new Uint8Array(BATCH_BYTES);
  private readonly batchPtr: number;
  private readonly rec = new PacketRecord();
  private readonly recv = new WrappingCounter();
  private readonly drop = new WrappingCounter();
  private readonly ifdrop = new WrappingCounter();
  private finished = false;

  private constructor(handle: Pointer, warnings: string[]) {
    this.handle = handle;
    this.warnings = warnings;
    this.linkType = pcapLib().symbols.pcap_datalink(handle);
    this.hdrSlot = ptr(this.scratch, 0);
    this.dataSlot = ptr(this.scratch, 8);
    this.batchPtr = ptr(this.batch);
    libc ??= openLibc();
    this.rec.setBuffer(this.batch);
    this.rec.linkType = this.linkType;
  }

  /** Open a live capture. Errors are ProvmonErrors that say what to change. */
  static openLive(o: LiveCaptureOptions): PcapHandle {
    const { symbols: s } = pcapLib();
    const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
    // pointers come back as numbers (bigint only above 2^53, which user-space addresses never reach)
    const h = s.pcap_create(o.interface, errbuf) as Pointer | null;
    if (!h) throw new ProvmonError(`cannot open interface "${o.interface}": ${cString(errbuf)}`);
    const warnings: string[] = [];
    try {
      s.pcap_set_snaplen(h, o.snapLen ?? 262144);
      s.pcap_set_promisc(h, o.promiscuous ? 1 : 0);
      s.pcap_set_timeout(h, o.timeoutMs ?? 100);
      s.pcap_set_buffer_size(h, o.bufferSize ?? 32 * 1024 * 1024);
      s.pcap_set_immediate_mode(h, o.immediate ? 1 : 0);
      // nanosecond timestamps where the kernel offers them; µs otherwise (the header says which)
      const nanos = s.pcap_set_tstamp_precision(h, PCAP_TSTAMP_PRECISION_NANO) === 0;
      const rc = s.pcap_activate(h);
      if (rc < 0) throw activateError(o.interface, rc, String(s.pcap_geterr(h)));
      if (rc > 0) warnings.push(rc === PCAP_WARNING_PROMISC_NOTSUP ? `${o.interface}: promiscuous mode not supported` : `${o.interface}: ${String(s.pcap_geterr(h))}`);
      const slots = Math.floor((o.bufferSize ?? 32 * 1024 * 1024) / (o.snapLen ?? 262144));
      if (o.immediate && slots < 4096) {
        warnings.push(`${o.interface}: immediate mode with snap length ${o.snapLen ?? 262144} leaves room for only ~${slots} packets in the ring; lower the snap length or raise the buffer size`);
      }
      if (o.linkType !== undefined && s.pcap_set_datalink(h, DLT_BY_NAME[o.linkType]!) !== 0) {
        throw new ProvmonError(`interface "${o.interface}" does not offer link type ${o.linkType}: ${String(s.pcap_geterr(h))}`);
      }
      if (o.filter) applyFilter(h, o.filter);
      if (s.pcap_setnonblock(h, 1, errbuf) !== 0) throw new ProvmonError(`cannot make the capture on "${o.interface}" non-blocking: ${cString(errbuf)}`);
      const handle = new PcapHandle(h, warnings);
      handle.nanos = nanos;
      return handle;
    } catch (error) {
      s.pcap_close(h);
      throw error;
    }
  }

  /** Open a capture file through libpcap (used to cross-check the pure-TS reader). */
  static openOffline(path: string, filter?: string): PcapHandle {
    const { symbols: s } = pcapLib();
    const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
    const h = s.pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf) as Pointer | null;
    if (!h) throw new ProvmonError(`libpcap cannot read ${path}: ${cString(errbuf)}`);
    try {
      if (filter) applyFilter(h, filter);
    } catch (error) {
      s.pcap_close(h);
      throw error;
    }
    const handle = new PcapHandle(h, []);
    handle.nanos = true;
    handle.offline = true;
    return handle;
  }

  private nanos = false;
  private offline = false;

  /**
   * Deliver up to `max` packets that are ready now; never blocks. Returns how many were delivered;
   * 0 means none are waiting (live) — check `done` for the end of an offline file.
   */
  dispatch(max: number, onPacket: (rec: PacketRecord) => void): number {
    const h = this.handle;
    if (h === null || this.finished) return 0;
    const s = pcapLib().symbols;
    const memcpy = libc!.symbols.memcpy;
    const rec = this.rec;
    const scale = this.nanos ? 1 : 1000;
    let delivered = 0;
    while (delivered < max) {
      const rc = s.pcap_next_ex(h, this.hdrSlot, this.dataSlot);
      if (rc === 1) {
        const hdr = read.ptr(this.hdrSlot);
        const data = read.ptr(this.dataSlot);
        // struct pcap_pkthdr on LP64: timeval {i64 sec, i64 usec|nsec}, u32 caplen, u32 len
        // the record is consumed inside onPacket, so every packet can be copied to the start;
        // libpcap's own buffer is not ours to keep once pcap_next_ex is called again
        const capLen = Math.min(read.u32(hdr, 16), BATCH_BYTES);
        memcpy(this.batchPtr as Pointer, data as Pointer, capLen);
        rec.tsSec = read.u32(hdr, 0) + read.u32(hdr, 4) * 4294967296;
        rec.tsNsec = read.u32(hdr, 8) * scale;
        rec.capLen = capLen;
        rec.wireLen = read.u32(hdr, 20);
        rec.offset = 0;
        delivered++;
        onPacket(rec);
        continue;
      }
      if (rc === 0) break; // nothing waiting (non-blocking)
      if (rc === -2) {
        this.finished = true; // end of an offline file
        break;
      }
      throw new ProvmonError(`capture failed: ${String(s.pcap_geterr(h))}`);
    }
    return delivered;
  }

  /** True once an offline file has been read to its end. */
  get done(): boolean {
    return this.finished;
  }

  /** Kernel counters since the capture opened (live captures only). */
  stats(): CaptureStats {
    const h = this.handle;
    if (h === null || this.offline) return { received: 0, dropped: 0, interfaceDropped: 0 };
    const s = pcapLib().symbols;
    const buf = new Uint32Array(4);
    if (s.pcap_stats(h, buf) !== 0) throw new ProvmonError(`pcap_stats failed: ${String(s.pcap_geterr(h))}`);
    return { received: this.recv.update(buf[0]!), dropped: this.drop.update(buf[1]!), interfaceDropped: this.ifdrop.update(buf[2]!) };
  }

  close(): void {
    if (this.handle !== null) {
      pcapLib().symbols.pcap_close(this.handle);
      this.handle = null;
    }
  }

  /**
   * Pump packets until `signal` aborts: drain what is ready, sleep `idleMs` when nothing is.
   * Non-blocking so the capture can share the event loop with the rest of the sensor.
   */
  async run(onPacket: (rec: PacketRecord) => void, o: { signal?: AbortSignal; idleMs?: number; batch?: number; onIdle?: () => void } = {}): Promise<void> {
    const idle = o.idleMs ?? 5;
    const batch = o.batch ?? 4096;
    while (!o.signal?.aborted && !this.finished) {
      const n = this.dispatch(batch, onPacket);
      if (n === 0) {
        o.onIdle?.();
        await Bun.sleep(idle);
      } else if (n === batch) {
        await Promise.resolve(); // let timers and I/O run between full batches
      }
    }
  }
}

function applyFilter(h: Pointer, filter: string): void {
  const { symbols: s } = pcapLib();
  const program = new BigUint64Array(2); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
  if (s.pcap_compile(h , program, filter, 1, PCAP_NETMASK_UNKNOWN) !== 0) {
    throw new ProvmonError(`pcap_config.bpf_filter: bad BPF filter "${filter}": ${String(s.pcap_geterr(h))}`, {
      hint: 'the filter uses pcap-filter(7) syntax, e.g. "tcp or udp" or "not port 9200" (--bpf-filter or pcap_config.bpf_filter)',
      exitCode: 2,
    });
  }
  try {
    if (s.pcap_setfilter(h , program) !== 0) {
      throw new ProvmonError(`cannot install BPF filter "${filter}": ${String(s.pcap_geterr(h))}`);
    }
  } finally {
    s.pcap_freecode(program);
  }
}

function activateError(iface: string, rc: number, detail: string): ProvmonError {
  const why = detail || String(pcapLib().symbols.pcap_statustostr(rc));
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return new ProvmonError(`no permission to capture on "${iface}": ${why}`, {
        hint: 'run provmon as root, or grant capture capabilities: setcap cap_net_raw,cap_net_admin+eip <path to bun>',
      });
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return new ProvmonError(`pcap_config.interface: no such interface "${iface}": ${why}`, {
        hint: `pick one of: ${listInterfaces().join(', ')} (or "any") with --interface or pcap_config.interface`,
        exitCode: 2,
      });
    case PCAP_ERROR_IFACE_NOT_UP:
      return new ProvmonError(`interface "${iface}" is down: ${why}`, { hint: `bring it up: ip link set ${iface} up` });
    default:
      return new ProvmonError(`cannot capture on "${iface}": ${why}`);
  }
}

function listInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}
