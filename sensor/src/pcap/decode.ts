/**
 * Link, network and transport decoding: the hot path. One call per packet fills a caller-owned
 * DecodedPacket in place (offsets into the frame buffer and plain numbers), so decoding allocates
 * nothing. Every bounds problem is counted in DecodeStats.malformed and the function returns;
 * nothing here throws on packet content.
 */
import type { DecodeStats } from './decode-stats.ts';
import {
  DLT_RAW,
  DLT_RAW_OPENBSD,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NFLOG,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
} from './link-types.ts';
import type { PacketRecord } from './packet-record.ts';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const MAX_VLAN_DEPTH = 8;
const MAX_IPV6_EXTENSIONS = 16;
const ARPHRD_NETLINK = 824;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_NS = 0x100;

/** Not a fragment / the first fragment (carries the transport header) / a later fragment (does not). */
export const FRAG_NONE = 0;
export const FRAG_FIRST = 1;
export const FRAG_LATER = 2;

/**
 * The decoded view of one packet. Offsets are absolute indexes into `data` (the reader's buffer),
 * valid only until the reader's next packet. Addresses are also held as four big-endian 32-bit
 * words (IPv4 uses word 0) so the flow table can hash and compare them without touching bytes.
 */
export class DecodedPacket {
  data: Uint8Array = new Uint8Array(0);
  tsSec = 0;
  tsNsec = 0;
  wireLen = 0;
  capLen = 0;
  /** outermost 802.1Q/802.1ad VLAN id, -1 when untagged */
  vlanId = -1;
  /** 4 or 6; 0 when the frame carries no decodable IP */
  ipVersion = 0;
  srcOffset = 0;
  dstOffset = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** transport protocol number after IPv6 extension headers; -1 when unknown */
  protocol = -1;
  fragment = FRAG_NONE;
  /** IPv4 identification or IPv6 fragment identification */
  fragmentId = 0;
  /** fragments (FRAG_FIRST/FRAG_LATER) only: where this fragment's data sits in the datagram, for reassembly */
  fragmentOffset = 0;
  fragmentMore = false;
  /** start and end (exclusive, within the capture) of the fragment's data in `data` */
  fragmentDataOffset = 0;
  fragmentDataEnd = 0;
  /** the data length the IP header declares (more than captured when the snap length cut the frame) */
  fragmentDataLength = 0;
  /** IPv6: the fragment header's next header (the first header of the fragmentable part) */
  fragmentNext = 0;
  /** start of the IP header in `data`, and its length (IPv6: the fixed 40 bytes) */
  ipOffset = 0;
  ipHeaderLength = 0;
  /** frames this packet stands for: 1, or the fragments of a reassembled datagram (flow packet counts) */
  frames = 1;
  /** true when srcPort/dstPort hold TCP/UDP/SCTP ports, or ICMP type/code are valid */
  hasTransport = false;
  /** start of the transport header (valid when hasTransport) */
  transportOffset = 0;
  srcPort = 0;
  dstPort = 0;
  /** TCP flags including NS as bit 8 */
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  /** TCP header length in bytes (20 + options) */
  tcpHeaderLength = 0;
  icmpType = -1;
  icmpCode = -1;
  /** application payload start (after the TCP/UDP header) */
  payloadOffset = 0;
  /** payload length the headers declare */
  payloadLength = 0;
  /** payload bytes actually present in the capture (<= payloadLength) */
  payloadCaptured = 0;
}

function resetPacket(out: DecodedPacket, rec: PacketRecord): void {
  out.data = rec.data;
  out.tsSec = rec.tsSec;
  out.tsNsec = rec.tsNsec;
  out.wireLen = rec.wireLen;
  out.capLen = rec.capLen;
  out.vlanId = -1;
  out.ipVersion = 0;
  out.protocol = -1;
  out.fragment = FRAG_NONE;
  out.fragmentId = 0;
  out.frames = 1;
  out.hasTransport = false;
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.tcpHeaderLength = 0;
  out.icmpType = -1;
  out.icmpCode = -1;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.payloadCaptured = 0;
}

/**
 * Decode one frame. Returns true when an IP header was decoded (out.ipVersion set); transport
 * fields are valid only when out.hasTransport is true.
 */
export function decodePacket(rec: PacketRecord, out: DecodedPacket, stats: DecodeStats): boolean {
  resetPacket(out, rec);
  const traffic = stats.traffic;
  const malformed = stats.malformed;
  traffic.packets++;
  traffic.bytes += rec.wireLen;
  if (rec.capLen < rec.wireLen) traffic.snap_truncated++;

  const d = rec.data;
  const start = rec.offset;
  const end = start + rec.capLen;
  let p = start;
  let etype = 0;

  switch (rec.linkType) {
    case LINKTYPE_ETHERNET:
      if (end - p < 14) {
        malformed.link_truncated++;
        return false;
      }
      etype = (d[p + 12]! << 8) | d[p + 13]!;
      p += 14;
      break;
    case LINKTYPE_LINUX_SLL:
      if (end - p < 16) {
        malformed.link_truncated++;
        return false;
      }
      if (((d[p + 2]! << 8) | d[p + 3]!) === ARPHRD_NETLINK) {
        traffic.non_ip++;
        return false;
      }
      etype = (d[p + 14]! << 8) | d[p + 15]!;
      p += 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (end - p < 20) {
        malformed.link_truncated++;
        return false;
      }
      if (((d[p + 8]! << 8) | d[p + 9]!) === ARPHRD_NETLINK) {
        traffic.non_ip++;
        return false;
      }
      etype = (d[p]! << 8) | d[p + 1]!;
      p += 20;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (end - p < 4) {
        malformed.link_truncated++;
        return false;
      }
      // NULL is in the writer's byte order and LOOP in network order; families are small numbers,
      // so whichever reading fits in 16 bits is the right one.
      let family = d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24);
      if (family >>> 16 !== 0 || rec.linkType === LINKTYPE_LOOP) {
        family = (d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!;
      }
      p += 4;
      if (family === 2) etype = ETHERTYPE_IPV4;
      // AF_INET6 differs per BSD: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30
      else if (family === 24 || family === 28 || family === 30) etype = ETHERTYPE_IPV6;
      else {
        traffic.non_ip++;
        return false;
      }
      break;
    }
    case LINKTYPE_NFLOG: {
      const payload = nflogPayload(rec.view, d, p, end);
      if (payload < 0) {
        if (payload === NFLOG_NO_PAYLOAD) traffic.non_ip++;
        else malformed.nflog_bad_tlv++;
        return false;
      }
      const family = d[p]!;
      p = payload;
      if (family === 2) etype = ETHERTYPE_IPV4;
      else if (family === 10) etype = ETHERTYPE_IPV6;
      else {
        traffic.non_ip++;
        return false;
      }
      break;
    }
    case LINKTYPE_RAW:
    case DLT_RAW:
    case DLT_RAW_OPENBSD:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (end - p < 1) {
        malformed.link_truncated++;
        return false;
      }
      const version = d[p]! >> 4;
      if (version === 4) etype = ETHERTYPE_IPV4;
      else if (version === 6) etype = ETHERTYPE_IPV6;
      else {
        malformed.ip_bad_version++;
        return false;
      }
      break;
    }
    default:
      traffic.unsupported_link_type++;
      return false;
  }

  if (etype === ETHERTYPE_VLAN || etype === ETHERTYPE_QINQ || etype === ETHERTYPE_QINQ_OLD) {
    traffic.vlan_tagged++;
    let depth = 0;
    while (etype === ETHERTYPE_VLAN || etype === ETHERTYPE_QINQ || etype === ETHERTYPE_QINQ_OLD) {
      if (++depth > MAX_VLAN_DEPTH) {
        malformed.vlan_too_deep++;
        return false;
      }
      if (end - p < 4) {
        malformed.vlan_truncated++;
        return false;
      }
      if (depth === 1) out.vlanId = ((d[p]! << 8) | d[p + 1]!) & 0xfff;
      etype = (d[p + 2]! << 8) | d[p + 3]!;
      p += 4;
    }
  }

  // Bytes of the IP packet that existed on the wire (capture may hold fewer).
  const wireRemaining = end - p + (rec.wireLen - rec.capLen);
  if (etype === ETHERTYPE_IPV4) return decodeIpv4(rec.view, d, p, end, wireRemaining, out, stats);
  if (etype === ETHERTYPE_IPV6) return decodeIpv6(rec.view, d, p, end, wireRemaining, out, stats);
  traffic.non_ip++;
  return false;
}

const NFLOG_NO_PAYLOAD = -1;
const NFLOG_BAD = -2;
const NFULA_PAYLOAD = 9;

/**
 * NFLOG (Linux netfilter log, LINKTYPE 239): family(1) version(1) resource id(2), then TLVs whose length and
 * type are in the logging host's byte order (little-endian on every host we expect; big-endian is tried when the
 * little-endian reading does not fit). Returns the offset of the logged IP packet, or NFLOG_NO_PAYLOAD /
 * NFLOG_BAD.
 */
function nflogPayload(view: DataView, d: Uint8Array, p: number, end: number): number {
  if (end - p < 4 || d[p + 1] !== 0) return NFLOG_BAD;
  for (const littleEndian of [true, false]) {
    let q = p + 4;
    let ok = true;
    while (end - q >= 4) {
      const len = view.getUint16(q, littleEndian);
      const type = view.getUint16(q + 2, littleEndian) & 0x7fff;
      if (len < 4 || len > end - q) {
        ok = false;
        break;
      }
      if (type === NFULA_PAYLOAD) return q + 4;
      q += (len + 3) & ~3;
    }
    if (ok) return NFLOG_NO_PAYLOAD;
  }
  return NFLOG_BAD;
}

function decodeIpv4(
  view: DataView,
  d: Uint8Array,
  p: number,
  end: number,
  wireRemaining: number,
  out: DecodedPacket,
  stats: DecodeStats,
): boolean {
  const malformed = stats.malformed;
  if (end - p < 20) {
    malformed.ipv4_truncated++;
    return false;
  }
  const b0 = d[p]!;
  if (b0 >> 4 !== 4) {
    malformed.ip_bad_version++;
    return false;
  }
  const headerLength = (b0 & 0x0f) << 2;
  if (headerLength < 20) {
    malformed.ipv4_bad_header_length++;
    return false;
  }
  if (end - p < headerLength) {
    malformed.ipv4_truncated++;
    return false;
  }
  let totalLength = (d[p + 2]! << 8) | d[p + 3]!;
  if (totalLength === 0) {
    // Segmentation offload hands packet sockets super-packets with total length 0: trust the frame.
    totalLength = wireRemaining;
  } else if (totalLength < headerLength) {
    malformed.ipv4_bad_total_length++;
    return false;
  }
  if (totalLength > wireRemaining) {
    malformed.ipv4_length_exceeds_frame++;
    totalLength = wireRemaining;
  }
  stats.traffic.ipv4++;
  out.ipVersion = 4;
  out.srcOffset = p + 12;
  out.dstOffset = p + 16;
  out.src0 = view.getUint32(p + 12);
  out.dst0 = view.getUint32(p + 16);
  out.src1 = out.src2 = out.src3 = 0;
  out.dst1 = out.dst2 = out.dst3 = 0;
  const protocol = d[p + 9]!;
  out.protocol = protocol;

  if (headerLength > 20) {
    if (!optionsWellFormed(d, p + 20, p + headerLength)) malformed.ipv4_bad_option++;
  }

  const fragField = (d[p + 6]! << 8) | d[p + 7]!;
  const fragOffset = fragField & 0x1fff;
  if (fragOffset !== 0 || (fragField & 0x2000) !== 0) {
    stats.traffic.fragments++;
    out.fragmentId = (d[p + 4]! << 8) | d[p + 5]!;
    out.fragmentOffset = fragOffset << 3;
    out.fragmentMore = (fragField & 0x2000) !== 0;
    out.fragmentDataOffset = p + headerLength;
    out.fragmentDataLength = totalLength - headerLength;
    out.fragmentDataEnd = Math.min(p + totalLength, end);
    out.ipOffset = p;
    out.ipHeaderLength = headerLength;
    if (fragOffset !== 0) {
      out.fragment = FRAG_LATER;
      return true;
    }
    out.fragment = FRAG_FIRST;
  }
  const l4 = p + headerLength;
  const declaredEnd = p + totalLength;
  decodeTransport(view, d, protocol, l4, declaredEnd, declaredEnd < end ? declaredEnd : end, out, stats);
  return true;
}

function decodeIpv6(
  view: DataView,
  d: Uint8Array,
  p: number,
  end: number,
  wireRemaining: number,
  out: DecodedPacket,
  stats: DecodeStats,
): boolean {
  const malformed = stats.malformed;
  if (end - p < 40) {
    malformed.ipv6_truncated++;
    return false;
  }
  if (d[p]! >> 4 !== 6) {
    malformed.ip_bad_version++;
    return false;
  }
  const payloadLength = (d[p + 4]! << 8) | d[p + 5]!;
  // 0 means a jumbogram (hop-by-hop option) or an offloaded super-packet: trust the frame.
  let totalLength = payloadLength === 0 ? wireRemaining : payloadLength + 40;
  if (totalLength > wireRemaining) {
    malformed.ipv6_length_exceeds_frame++;
    totalLength = wireRemaining;
  }
  stats.traffic.ipv6++;
  out.ipVersion = 6;
  out.srcOffset = p + 8;
  out.dstOffset = p + 24;
  out.src0 = view.getUint32(p + 8);
  out.src1 = view.getUint32(p + 12);
  out.src2 = view.getUint32(p + 16);
  out.src3 = view.getUint32(p + 20);
  out.dst0 = view.getUint32(p + 24);
  out.dst1 = view.getUint32(p + 28);
  out.dst2 = view.getUint32(p + 32);
  out.dst3 = view.getUint32(p + 36);

  const declaredEnd = p + totalLength;
  const capEnd = declaredEnd < end ? declaredEnd : end;
  let next = d[p + 6]!;
  let q = p + 40;
  for (let i = 0; ; i++) {
    if (i === MAX_IPV6_EXTENSIONS) {
      malformed.ipv6_too_many_extensions++;
      out.protocol = next;
      return true;
    }
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      // hop-by-hop, routing, destination options, mobility, HIP, shim6: length in 8-octet units, first excluded
      if (capEnd - q < 2) {
        malformed.ipv6_bad_extension++;
        out.protocol = next;
        return true;
      }
      const len = (d[q + 1]! + 1) << 3;
      next = d[q]!;
      q += len;
    } else if (next === 51) {
      // AH: length in 4-octet units, first two excluded
      if (capEnd - q < 2) {
        malformed.ipv6_bad_extension++;
        out.protocol = next;
        return true;
      }
      const len = (d[q + 1]! + 2) << 2;
      next = d[q]!;
      q += len;
    } else if (next === 44) {
      if (capEnd - q < 8) {
        malformed.ipv6_bad_extension++;
        out.protocol = next;
        return true;
      }
      const offsetField = (d[q + 2]! << 8) | d[q + 3]!;
      out.fragmentId = view.getUint32(q + 4);
      next = d[q]!;
      q += 8;
      if (offsetField !== 0) {
        // offset 0 with M clear is an atomic fragment (below): not a fragment to reassemble or count
        stats.traffic.fragments++;
        out.fragmentOffset = offsetField & 0xfff8;
        out.fragmentMore = (offsetField & 1) !== 0;
        out.fragmentNext = next;
        out.fragmentDataOffset = q;
        out.fragmentDataLength = Math.max(0, declaredEnd - q);
        out.fragmentDataEnd = Math.min(declaredEnd, end);
        out.ipOffset = p;
        out.ipHeaderLength = 40;
      }
      if (offsetField >> 3 !== 0) {
        out.fragment = FRAG_LATER;
        out.protocol = next;
        return true;
      }
      // offset 0 with M clear is an "atomic fragment" (RFC 6946): a whole packet
      if ((offsetField & 1) !== 0) out.fragment = FRAG_FIRST;
    } else {
      break;
    }
    if (q > declaredEnd) {
      malformed.ipv6_bad_extension++;
      out.protocol = next;
      return true;
    }
  }
  out.protocol = next;
  decodeTransport(view, d, next, q, declaredEnd, capEnd, out, stats);
  return true;
}

/**
 * `declaredEnd` is where the IP header says the packet ends; `capEnd` is where the captured bytes
 * of it end (<= declaredEnd). A header that does not fit in declaredEnd is malformed; one that
 * fits on the wire but not in the capture was cut by the snap length.
 */
function decodeTransport(
  view: DataView,
  d: Uint8Array,
  protocol: number,
  q: number,
  declaredEnd: number,
  capEnd: number,
  out: DecodedPacket,
  stats: DecodeStats,
): void {
  const malformed = stats.malformed;
  const traffic = stats.traffic;
  const captured = capEnd - q;
  const declared = declaredEnd - q;
  out.transportOffset = q;
  switch (protocol) {
    case PROTO_TCP: {
      traffic.tcp++;
      // Ports, sequence numbers and flags sit in the first 14 bytes: enough for flow accounting.
      if (captured < 14) {
        malformed.tcp_truncated++;
        return;
      }
      out.hasTransport = true;
      out.srcPort = (d[q]! << 8) | d[q + 1]!;
      out.dstPort = (d[q + 2]! << 8) | d[q + 3]!;
      out.tcpSeq = view.getUint32(q + 4);
      out.tcpAck = view.getUint32(q + 8);
      const b12 = d[q + 12]!;
      out.tcpFlags = d[q + 13]! | ((b12 & 1) << 8);
      out.tcpWindow = captured >= 16 ? (d[q + 14]! << 8) | d[q + 15]! : 0;
      const headerLength = (b12 >> 4) << 2;
      if (headerLength < 20 || headerLength > declared) {
        malformed.tcp_bad_header_length++;
        return;
      }
      out.tcpHeaderLength = headerLength;
      const payload = q + headerLength;
      out.payloadOffset = payload;
      out.payloadLength = declaredEnd - payload;
      out.payloadCaptured = capEnd > payload ? capEnd - payload : 0;
      if (headerLength > 20 && captured >= headerLength) {
        if (!optionsWellFormed(d, q + 20, payload)) malformed.tcp_bad_option++;
      }
      return;
    }
    case PROTO_UDP: {
      traffic.udp++;
      if (captured < 8) {
        malformed.udp_truncated++;
        return;
      }
      out.hasTransport = true;
      out.srcPort = (d[q]! << 8) | d[q + 1]!;
      out.dstPort = (d[q + 2]! << 8) | d[q + 3]!;
      let udpLength = (d[q + 4]! << 8) | d[q + 5]!;
      if (udpLength < 8 || udpLength > declared) {
        // 0 is legal for IPv6 jumbograms and a first fragment holds only part of the datagram;
        // anything else that disagrees with IP is a lie we survive
        if (udpLength !== 0 && out.fragment !== FRAG_FIRST) malformed.udp_bad_length++;
        udpLength = declared >= 8 ? declared : 8;
      }
      const payload = q + 8;
      out.payloadOffset = payload;
      out.payloadLength = udpLength - 8;
      const payloadEnd = q + udpLength < capEnd ? q + udpLength : capEnd;
      out.payloadCaptured = payloadEnd > payload ? payloadEnd - payload : 0;
      return;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      if (protocol === PROTO_ICMP) traffic.icmp++;
      else traffic.icmpv6++;
      if (captured < 4) {
        malformed.icmp_truncated++;
        return;
      }
      out.hasTransport = true;
      out.icmpType = d[q]!;
      out.icmpCode = d[q + 1]!;
      out.payloadOffset = q + 4;
      out.payloadLength = declared - 4;
      out.payloadCaptured = captured - 4;
      return;
    }
    case PROTO_SCTP: {
      traffic.sctp++;
      if (captured < 12) {
        malformed.sctp_truncated++;
        return;
      }
      out.hasTransport = true;
      out.srcPort = (d[q]! << 8) | d[q + 1]!;
      out.dstPort = (d[q + 2]! << 8) | d[q + 3]!;
      return;
    }
    default:
      traffic.other_transport++;
      return;
  }
}

/**
 * IPv4 and TCP options share one TLV layout (0 = end, 1 = no-op, else kind, length, data). They are walked only to
 * catch lengths that lie; their content does not matter to flows.
 */
function optionsWellFormed(d: Uint8Array, start: number, end: number): boolean {
  let o = start;
  while (o < end) {
    const kind = d[o]!;
    if (kind === 0) return true;
    if (kind === 1) {
      o++;
      continue;
    }
    if (o + 1 >= end) return false;
    const len = d[o + 1]!;
    if (len < 2 || o + len > end) return false;
    o += len;
  }
  return true;
}
