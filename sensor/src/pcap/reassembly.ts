/**
 * IPv4 and IPv6 fragment reassembly, so a datagram that travelled in fragments (a large EDNS answer, or an
 * evasion attempt) is decoded whole: DNS parsed, the flow keyed on its transport header even when the fragments
 * arrived out of order.
 *
 * Bounded: at most `maxDatagrams` datagrams and `maxBytes` bytes of fragment data are held; beyond either, the
 * oldest datagram is given up (counted). A datagram not complete within `timeoutSec` (packet time) is given up
 * too. A given-up datagram is not lost to flow accounting: when its first fragment (the one with the transport
 * header) was seen, that fragment comes back with the frame and byte totals of everything held, so the flow
 * still counts what was on the wire.
 *
 * Overlap policy (RFC 5722 for IPv6, and what Linux does for IPv4 since 4.19): a fragment that is an exact
 * duplicate of one held (same offset, length and bytes) is ignored; any other overlap, or fragments that
 * disagree about where the datagram ends, discard the whole datagram, including fragments still to come (until
 * its timeout). So provmon never decodes bytes the receiving host would not have accepted either way.
 */
import { FRAG_FIRST, type DecodedPacket } from './decode.ts';

export interface ReassemblyOptions {
  /** fragment data held across all datagrams (default 4 MiB) */
  maxBytes?: number;
  /** datagrams in reassembly at once (default 1024) */
  maxDatagrams?: number;
  /** seconds of packet time a datagram may take to complete (default 30, Linux's ipfrag_time) */
  timeoutSec?: number;
}

/** Counters; every fragment that does not end up in a reassembled datagram is in one of them. */
export class ReassemblyStats {
  /** datagrams completed */
  reassembled = 0;
  /** fragments that went into completed datagrams */
  fragments_reassembled = 0;
  /** datagrams given up after the timeout */
  timed_out = 0;
  /** datagrams given up because the datagram or byte bound was reached */
  evicted = 0;
  /** exact duplicates ignored */
  duplicates = 0;
  /** datagrams discarded for overlapping or inconsistent fragments */
  overlap_discarded = 0;
  /** fragments beyond 65535 bytes of datagram, or cut by the snap length: their datagram cannot complete */
  unusable = 0;
}

/** A complete datagram as a raw IP packet, with what it stood for on the wire. */
export interface Reassembled {
  packet: Uint8Array;
  frames: number;
  wireBytes: number;
  tsSec: number;
  tsNsec: number;
}

interface Piece {
  offset: number;
  data: Uint8Array;
}

interface Pending {
  key: string;
  startedAt: number;
  pieces: Piece[];
  /** datagram length once the last fragment (MF clear) arrived, else -1 */
  total: number;
  frames: number;
  wireBytes: number;
  held: number;
  /** the first fragment's IP header, when seen (IPv6: the fixed 40 bytes) */
  header: Uint8Array | null;
  version: number;
  /** IPv6: next header of the fragmentable part */
  next: number;
  discarded: boolean;
  tsSec: number;
  tsNsec: number;
}

const MAX_DATAGRAM = 65_535;

export class IpReassembler {
  readonly stats = new ReassemblyStats();
  private readonly pending = new Map<string, Pending>();
  private readonly maxBytes: number;
  private readonly maxDatagrams: number;
  private readonly timeout: number;
  private heldBytes = 0;

  /**
   * `onGiveUp` receives, for a datagram given up after its first fragment was seen, that fragment as a raw IP
   * packet with the frames and bytes of everything that was held.
   */
  constructor(
    o: ReassemblyOptions = {},
    private readonly onGiveUp: (first: Reassembled) => void = () => {},
  ) {
    this.maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
    this.maxDatagrams = o.maxDatagrams ?? 1024;
    this.timeout = o.timeoutSec ?? 30;
  }

  get size(): number {
    return this.pending.size;
  }

  get held(): number {
    return this.heldBytes;
  }

  /** Takes one fragment (copied); returns the datagram when this fragment completes it. */
  add(p: DecodedPacket): Reassembled | null {
    const now = p.tsSec + p.tsNsec * 1e-9;
    this.expire(now);
    const key = `${p.ipVersion}|${p.src0}|${p.src1}|${p.src2}|${p.src3}|${p.dst0}|${p.dst1}|${p.dst2}|${p.dst3}|${p.ipVersion === 4 ? p.protocol : 0}|${p.fragmentId}`;
    let d = this.pending.get(key);
    if (!d) {
      while (this.pending.size >= this.maxDatagrams) this.evictOldest();
      d = { key, startedAt: now, pieces: [], total: -1, frames: 0, wireBytes: 0, held: 0, header: null, version: p.ipVersion, next: 0, discarded: false, tsSec: p.tsSec, tsNsec: p.tsNsec };
      this.pending.set(key, d);
    }
    d.frames++;
    d.wireBytes += p.wireLen;
    d.tsSec = p.tsSec;
    d.tsNsec = p.tsNsec;
    if (d.discarded) return null;

    const length = p.fragmentDataLength;
    const offset = p.fragmentOffset;
    if (p.fragmentDataEnd - p.fragmentDataOffset < length || offset + length > MAX_DATAGRAM) {
      this.stats.unusable++;
      return this.discard(d);
    }
    if (!p.fragmentMore) {
      if ((d.total >= 0 && d.total !== offset + length) || d.pieces.some((x) => x.offset + x.data.length > offset + length)) {
        this.stats.overlap_discarded++;
        return this.discard(d);
      }
      d.total = offset + length;
    } else if ((length & 7) !== 0 || (d.total >= 0 && offset + length > d.total)) {
      // only the last fragment may have a length that is not a multiple of 8, and none may pass the end
      this.stats.overlap_discarded++;
      return this.discard(d);
    }
    const data = p.data.subarray(p.fragmentDataOffset, p.fragmentDataOffset + length);
    for (const x of d.pieces) {
      if (offset >= x.offset + x.data.length || x.offset >= offset + length) continue;
      if (x.offset === offset && x.data.length === length && equalBytes(x.data, data)) {
        this.stats.duplicates++;
        return null;
      }
      this.stats.overlap_discarded++;
      return this.discard(d);
    }
    d.pieces.push({ offset, data: data.slice() });
    d.held += length;
    this.heldBytes += length;
    if (p.fragment === FRAG_FIRST || offset === 0) {
      d.header = p.data.slice(p.ipOffset, p.ipOffset + p.ipHeaderLength);
      d.next = p.fragmentNext;
    }
    while (this.heldBytes > this.maxBytes && this.pending.size > 0) {
      const oldest = this.pending.values().next().value!;
      this.evictOldest();
      if (oldest === d) return null;
    }
    return this.complete(d);
  }

  /** Gives up datagrams older than the timeout at packet time `nowSec` (Infinity: all of them). */
  expire(nowSec: number): void {
    for (const d of this.pending.values()) {
      if (nowSec - d.startedAt < this.timeout) break; // insertion order is start order
      if (!d.discarded) this.stats.timed_out++;
      this.giveUp(d);
    }
  }

  private evictOldest(): void {
    const d = this.pending.values().next().value;
    if (!d) return;
    this.stats.evicted++;
    this.giveUp(d);
  }

  private discard(d: Pending): null {
    d.discarded = true;
    this.heldBytes -= d.held;
    d.held = 0;
    const first = this.firstFragment(d);
    d.pieces = [];
    d.header = first; // kept (whole first fragment) so the flow still gets the frames at give-up
    return null;
  }

  private giveUp(d: Pending): void {
    this.pending.delete(d.key);
    this.heldBytes -= d.held;
    const first = d.discarded ? d.header : this.firstFragment(d);
    if (first) this.onGiveUp({ packet: first, frames: d.frames, wireBytes: d.wireBytes, tsSec: d.tsSec, tsNsec: d.tsNsec });
  }

  /** The first fragment as a raw IP packet (header + its data), or null if it never came. */
  private firstFragment(d: Pending): Uint8Array | null {
    const piece = d.pieces.find((x) => x.offset === 0);
    if (!d.header || !piece) return null;
    if (d.version === 4) return withHeader(d.header, piece.data, true);
    return ipv6Packet(d.header, d.next, piece.data, true);
  }

  private complete(d: Pending): Reassembled | null {
    if (d.total < 0 || !d.header || d.held < d.total) return null;
    d.pieces.sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const x of d.pieces) {
      if (x.offset > covered) return null;
      covered = Math.max(covered, x.offset + x.data.length);
    }
    if (covered < d.total) return null;
    const payload = new Uint8Array(d.total);
    for (const x of d.pieces) payload.set(x.data, x.offset);
    this.pending.delete(d.key);
    this.heldBytes -= d.held;
    this.stats.reassembled++;
    this.stats.fragments_reassembled += d.frames;
    const packet = d.version === 4 ? withHeader(d.header, payload, false) : ipv6Packet(d.header, d.next, payload, false);
    return { packet, frames: d.frames, wireBytes: d.wireBytes, tsSec: d.tsSec, tsNsec: d.tsNsec };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** IPv4 header + payload; `fragment` keeps the MF flag (a given-up first fragment), else clears flags/offset. */
function withHeader(header: Uint8Array, payload: Uint8Array, fragment: boolean): Uint8Array {
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  const total = out.length;
  out[2] = (total >> 8) & 0xff;
  out[3] = total & 0xff;
  if (!fragment) out[6] = out[7] = 0;
  return out;
}

/**
 * IPv6 fixed header + payload with `next` as the next header: the unfragmentable extension headers are not
 * carried over (nothing downstream reads them). A given-up first fragment keeps a fragment header, so it decodes
 * as the first fragment it was.
 */
function ipv6Packet(fixed: Uint8Array, next: number, payload: Uint8Array, fragment: boolean): Uint8Array {
  const ext = fragment ? 8 : 0;
  const out = new Uint8Array(40 + ext + payload.length);
  out.set(fixed.subarray(0, 40), 0);
  const length = ext + payload.length;
  out[4] = (length >> 8) & 0xff;
  out[5] = length & 0xff;
  if (fragment) {
    out[6] = 44;
    out[40] = next;
    out[43] = 1; // offset 0, more fragments
  } else {
    out[6] = next;
  }
  out.set(payload, 40 + ext);
  return out;
}
