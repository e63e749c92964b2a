/**
 * Offline reader for pcap (both byte orders, µs and ns, and the old "modified" variant) and pcapng
 * (SHB/IDB/EPB/SPB/OPB, several sections and interfaces, per-interface link type, timestamp
 * resolution and offset). Pure TypeScript: it streams the file through one reusable buffer and hands
 * each packet to a callback as a reused PacketRecord, so reading allocates nothing per packet.
 *
 * Damage policy: a file that is not a capture at all throws a ProvmonError before anything is read.
 * Damage after that (a truncated tail, a record or block whose length cannot be trusted) stops the
 * read, is counted in `malformed`, and is described in `error`; every packet before it has already
 * been delivered. Damage inside one pcapng block whose framing is intact skips just that block.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EXIT, ProvmonError } from '../errors.ts';
import { PacketRecord } from './packet-record.ts';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34; // Kuznetzov's patched libpcap: 8 more bytes per record header
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2; // obsolete Packet Block, still written by old tools
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

/** No sane capture holds a single packet or block bigger than this; past it the length is a lie. */
const MAX_RECORD = 16 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  name?: string;
  /** e.g. 1000000 for microseconds */
  ticksPerSecond: number;
  /** if_tsoffset: seconds added to every timestamp */
  offsetSeconds: number;
}

export class CaptureFileMalformed {
  /** the file ends in the middle of a record header, record or block */
  truncated_record = 0;
  /** a pcap record length beyond any sane snap length: the rest of the file cannot be framed */
  bad_record_length = 0;
  /** a pcapng block length that is too small, unaligned, huge or disagrees with its trailer */
  bad_block_length = 0;
  /** a packet block whose captured length does not fit in the block: that block is skipped */
  bad_packet_length = 0;
  /** a packet block naming an interface no IDB declared: that block is skipped */
  unknown_interface = 0;
  /** a pcapng block before the first section header, or a section header with a bad byte-order mark */
  bad_section = 0;
}

export interface CaptureFileResult {
  format: 'pcap' | 'pcapng';
  packets: number;
  interfaces: CaptureInterface[];
  malformed: CaptureFileMalformed;
  /** set when the read stopped before the end of the file; the packets before that point were delivered */
  error?: string;
}

export type PacketCallback = (rec: PacketRecord) => void;

interface ByteSource {
  /** read up to `length` bytes into buf at `offset`; 0 at end of input */
  read(buf: Uint8Array, offset: number, length: number): number;
  close(): void;
}

function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProvmonError(`cannot open capture file ${path}: ${code ?? (error as Error).message}`, {
      hint: code === 'ENOENT' ? 'check the path given to --pcap-file' : 'check the file permissions',
      cause: error,
    });
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new ProvmonError(`capture file ${path} is a directory`, { hint: 'give --pcap-file one pcap or pcapng file', exitCode: 2 });
  }
  return {
    read: (buf, offset, length) => readSync(fd, buf, offset, length, null),
    close: () => closeSync(fd),
  };
}

function bytesSource(bytes: Uint8Array): ByteSource {
  let pos = 0;
  return {
    read(buf, offset, length) {
      const n = Math.min(length, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    },
    close() {},
  };
}

export interface ReadOptions {
  /** read-buffer size; the buffer grows past it only for a record that does not fit */
  chunkSize?: number;
  /** name used in error messages (readCaptureBytes) */
  label?: string;
}

/** Read a capture file from disk, calling onPacket for every packet in file order. */
export function readCaptureFile(path: string, onPacket: PacketCallback, options: ReadOptions = {}): CaptureFileResult {
  const source = fileSource(path);
  try {
    return new CaptureReader(source, options.label ?? path, options.chunkSize ?? CHUNK).run(onPacket);
  } finally {
    source.close();
  }
}

/** Same as readCaptureFile for a capture already in memory. */
export function readCaptureBytes(bytes: Uint8Array, onPacket: PacketCallback, options: ReadOptions = {}): CaptureFileResult {
  const chunk = options.chunkSize ?? Math.max(64 * 1024, Math.min(CHUNK, bytes.length));
  return new CaptureReader(bytesSource(bytes), options.label ?? 'capture', chunk).run(onPacket);
}

/**
 * Convert a pcapng 64-bit tick count (two 32-bit halves) to seconds + nanoseconds without BigInt
 * and without losing precision above 2^53 (nanosecond ticks since 1970 are ~2^60): long division
 * in 16-bit digits keeps every intermediate below 2^53.
 */
export function ticksToTime(hi: number, lo: number, ticksPerSecond: number, rec: { tsSec: number; tsNsec: number }): void {
  let sec: number;
  let rem: number;
  if (hi < 0x200000) {
    const total = hi * 4294967296 + lo;
    sec = Math.floor(total / ticksPerSecond);
    rem = total - sec * ticksPerSecond;
  } else {
    let q = 0;
    let r = 0;
    const digits = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
    for (const digit of digits) {
      const cur = r * 65536 + digit;
      const qd = Math.floor(cur / ticksPerSecond);
      r = cur - qd * ticksPerSecond;
      q = q * 65536 + qd;
    }
    sec = q;
    rem = r;
  }
  rec.tsSec = sec;
  rec.tsNsec = ticksPerSecond === 1e9 ? rem : ticksPerSecond === 1e6 ? rem * 1000 : Math.floor((rem * 1e9) / ticksPerSecond);
}

class CaptureReader {
  private buf: Uint8Array;
  private view: DataView;
  /** parse position */
  private pos = 0;
  /** file offset of buf[0], for error messages */
  private base = 0;
  /** end of valid bytes in buf */
  private filled = 0;
  private eof = false;
  private readonly rec = new PacketRecord();
  private readonly malformed = new CaptureFileMalformed();
  private packets = 0;
  private interfaces: CaptureInterface[] = [];
  private error: string | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly label: string,
    chunk: number,
  ) {
    this.buf = new Uint8Array(chunk);
    this.view = new DataView(this.buf.buffer);
    this.rec.setBuffer(this.buf);
  }

  /** Make at least n bytes available from pos. False at end of input with fewer bytes left. */
  private ensure(n: number): boolean {
    if (this.filled - this.pos >= n) return true;
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.filled);
      this.filled -= this.pos;
      this.base += this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.filled));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer);
      this.rec.setBuffer(bigger);
    }
    while (this.filled < n && !this.eof) {
      const got = this.source.read(this.buf, this.filled, this.buf.length - this.filled);
      if (got === 0) this.eof = true;
      this.filled += got;
    }
    return this.filled - this.pos >= n;
  }

  private remaining(): number {
    return this.filled - this.pos;
  }

  run(onPacket: PacketCallback): CaptureFileResult {
    if (!this.ensure(4)) {
      throw new ProvmonError(`${this.label} is not a pcap or pcapng file: it is ${this.remaining() === 0 ? 'empty' : `only ${this.remaining()} bytes long`}`, {
        hint: 'give provmon a capture written by tcpdump, dumpcap, tshark or provmon itself',
        exitCode: EXIT.damagedInput,
      });
    }
    const le = this.view.getUint32(0, true);
    const be = this.view.getUint32(0, false);
    if (le === PCAPNG_SHB) return this.runPcapng(onPacket);
    for (const [magic, littleEndian] of [
      [le, true],
      [be, false],
    ] as const) {
      if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_MODIFIED) {
        return this.runPcap(onPacket, littleEndian, magic === PCAP_MAGIC_NS, magic === PCAP_MAGIC_MODIFIED);
      }
    }
    const head = Array.from(this.buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ProvmonError(`${this.label} is not a pcap or pcapng file (it starts with ${head})`, {
      hint: /^1f 8b/.test(head) ? 'the file is gzip-compressed: gunzip it first' : 'give provmon a .pcap or .pcapng capture',
      exitCode: EXIT.damagedInput,
    });
  }

  private result(format: 'pcap' | 'pcapng'): CaptureFileResult {
    const out: CaptureFileResult = { format, packets: this.packets, interfaces: this.interfaces, malformed: this.malformed };
    if (this.error !== undefined) out.error = this.error;
    return out;
  }

  private runPcap(onPacket: PacketCallback, le: boolean, nanos: boolean, modified: boolean): CaptureFileResult {
    if (!this.ensure(24)) {
      this.malformed.truncated_record++;
      this.error = `${this.label}: pcap file header is truncated`;
      return this.result('pcap');
    }
    const snapLen = this.view.getUint32(16, le);
    const linkType = this.view.getUint32(20, le) & 0xffff; // upper bits carry FCS length flags
    this.interfaces = [{ linkType, snapLen, ticksPerSecond: nanos ? 1e9 : 1e6, offsetSeconds: 0 }];
    this.pos = 24;
    const headerLength = modified ? 24 : 16;
    const maxRecord = Math.min(MAX_RECORD, Math.max(snapLen, 262144));
    const rec = this.rec;
    rec.linkType = linkType;
    rec.interfaceId = 0;
    for (;;) {
      if (!this.ensure(headerLength)) {
        if (this.remaining() > 0) this.truncated('record header');
        break;
      }
      const p = this.pos;
      const view = this.view;
      const capLen = view.getUint32(p + 8, le);
      const wireLen = view.getUint32(p + 12, le);
      if (capLen > maxRecord) {
        this.malformed.bad_record_length++;
        this.error = `${this.label}: packet ${this.packets + 1} at byte ${this.describeOffset()} claims ${capLen} captured bytes (snap length ${snapLen}); the rest of the file cannot be framed`;
        break;
      }
      if (!this.ensure(headerLength + capLen)) {
        this.truncated('packet');
        break;
      }
      const q = this.pos; // ensure() may have compacted the buffer
      const frac = this.view.getUint32(q + 4, le);
      rec.tsSec = this.view.getUint32(q, le);
      rec.tsNsec = nanos ? frac : frac * 1000;
      if (rec.tsNsec >= 1e9) {
        // some writers overflow the fraction; carry it rather than emit an impossible time
        rec.tsSec += Math.floor(rec.tsNsec / 1e9);
        rec.tsNsec %= 1e9;
      }
      rec.offset = q + headerLength;
      rec.capLen = capLen;
      rec.wireLen = wireLen < capLen ? capLen : wireLen;
      this.packets++;
      onPacket(rec);
      this.pos = q + headerLength + capLen;
    }
    return this.result('pcap');
  }

  private truncated(what: string): void {
    this.malformed.truncated_record++;
    this.error = `${this.label} is truncated: it ends inside a ${what} at byte ${this.describeOffset()}, after ${this.packets} packets`;
  }

  private runPcapng(onPacket: PacketCallback): CaptureFileResult {
    let le = true;
    let inSection = false;
    const rec = this.rec;
    for (;;) {
      if (!this.ensure(12)) {
        if (this.remaining() > 0) this.truncated('block header');
        break;
      }
      let p = this.pos;
      const rawType = this.view.getUint32(p, le);
      if (rawType === PCAPNG_SHB) {
        const bom = this.view.getUint32(p + 8, true);
        if (bom === PCAPNG_BOM) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          this.malformed.bad_section++;
          this.error = `${this.label}: section header at byte ${this.describeOffset()} has no valid byte-order mark`;
          break;
        }
      } else if (!inSection) {
        this.malformed.bad_section++;
        this.error = `${this.label}: block before the first section header`;
        break;
      }
      const type = this.view.getUint32(p, le);
      const length = this.view.getUint32(p + 4, le);
      if (length < 12 || length % 4 !== 0 || length > MAX_RECORD || (type === PCAPNG_SHB && length < 28)) {
        this.malformed.bad_block_length++;
        this.error = `${this.label}: block of type ${type} at byte ${this.describeOffset()} claims length ${length}; the rest of the file cannot be framed`;
        break;
      }
      if (!this.ensure(length)) {
        this.truncated('block');
        break;
      }
      p = this.pos;
      const view = this.view;
      if (view.getUint32(p + length - 4, le) !== length) {
        this.malformed.bad_block_length++;
        this.error = `${this.label}: block of type ${type} at byte ${this.describeOffset()} has a trailer that disagrees with its length; the rest of the file cannot be framed`;
        break;
      }
      switch (type) {
        case PCAPNG_SHB:
          // a new section starts over: interface ids restart at 0
          inSection = true;
          this.interfaces = [];
          break;
        case BLOCK_IDB:
          this.interfaces.push(this.parseIdb(p, length, le));
          break;
        case BLOCK_EPB:
        case BLOCK_OPB: {
          const ifaceId = type === BLOCK_EPB ? view.getUint32(p + 8, le) : view.getUint16(p + 8, le);
          const iface = this.interfaces[ifaceId];
          if (iface === undefined) {
            this.malformed.unknown_interface++;
            break;
          }
          const capLen = view.getUint32(p + 20, le);
          if (28 + capLen + 4 > length) {
            this.malformed.bad_packet_length++;
            break;
          }
          const wireLen = view.getUint32(p + 24, le);
          ticksToTime(view.getUint32(p + 12, le), view.getUint32(p + 16, le), iface.ticksPerSecond, rec);
          rec.tsSec += iface.offsetSeconds;
          rec.offset = p + 28;
          rec.capLen = capLen;
          rec.wireLen = wireLen < capLen ? capLen : wireLen;
          rec.linkType = iface.linkType;
          rec.interfaceId = ifaceId;
          this.packets++;
          onPacket(rec);
          break;
        }
        case BLOCK_SPB: {
          // Simple Packet Block: interface 0, no timestamp (libpcap reports 0 as well)
          const iface = this.interfaces[0];
          if (iface === undefined) {
            this.malformed.unknown_interface++;
            break;
          }
          const wireLen = view.getUint32(p + 8, le);
          let capLen = Math.min(wireLen, length - 16);
          if (iface.snapLen > 0 && capLen > iface.snapLen) capLen = iface.snapLen;
          rec.tsSec = 0;
          rec.tsNsec = 0;
          rec.offset = p + 12;
          rec.capLen = capLen;
          rec.wireLen = wireLen;
          rec.linkType = iface.linkType;
          rec.interfaceId = 0;
          this.packets++;
          onPacket(rec);
          break;
        }
        default:
          break; // name resolution, statistics, decryption secrets, custom blocks: not needed
      }
      this.pos = p + length;
    }
    return this.result('pcapng');
  }

  private describeOffset(): number {
    return this.base + this.pos;
  }

  private parseIdb(p: number, length: number, le: boolean): CaptureInterface {
    const view = this.view;
    const iface: CaptureInterface = {
      linkType: view.getUint16(p + 8, le),
      snapLen: view.getUint32(p + 12, le),
      ticksPerSecond: 1e6,
      offsetSeconds: 0,
    };
    const end = p + length - 4;
    let o = p + 16;
    while (o + 4 <= end) {
      const code = view.getUint16(o, le);
      const len = view.getUint16(o + 2, le);
      const value = o + 4;
      if (code === 0 || value + len > end) break;
      if (code === 9 && len >= 1) {
        const r = this.buf[value]!;
        // high bit clear: 10^-n; set: 2^-n
        // beyond 10^-15 / 2^-50 the tick count cannot represent today's date anyway
        iface.ticksPerSecond = r & 0x80 ? 2 ** Math.min(r & 0x7f, 50) : 10 ** Math.min(r, 15);
      } else if (code === 14 && len >= 8) {
        iface.offsetSeconds = Number(view.getBigInt64(value, le));
      } else if (code === 2 && len > 0) {
        iface.name = new TextDecoder().decode(this.buf.subarray(value, value + len)).replace(/\0+$/, '');
      }
      o = value + ((len + 3) & ~3);
    }
    return iface;
  }
}
