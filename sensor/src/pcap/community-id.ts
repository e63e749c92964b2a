/**
 * Community ID v1 (github.com/corelight/community-id-spec): SHA-1 over
 * seed(2) . saddr . daddr . proto(1) . 0(1) . sport(2) . dport(2), endpoints ordered so the smaller
 * (address, port) comes first, base64, prefixed "1:". ICMP/ICMPv6 use type and code as ports with
 * Zeek's request/reply pairing, so an echo and its reply share an id.
 */
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP } from './decode.ts';
import { parseIp } from './ip-address.ts';
import { sha1Into } from './sha1.ts';

// request type -> reply type and back; types absent here are one-way (port pair = type, code)
const ICMP4_COUNTERPART: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
const ICMP6_COUNTERPART: Record<number, number> = {
  128: 129,
  129: 128,
  130: 131,
  131: 130,
  133: 134,
  134: 133,
  135: 136,
  136: 135,
  139: 140,
  140: 139,
  144: 145,
  145: 144,
};

/**
 * The port pair Community ID (and the flow table) uses for an ICMP message, plus whether the
 * message is one-way (then the tuple is never flipped).
 */
export function icmpPorts(protocol: number, type: number, code: number): { sport: number; dport: number; oneWay: boolean } {
  const counterpart = protocol === PROTO_ICMPV6 ? ICMP6_COUNTERPART[type] : ICMP4_COUNTERPART[type];
  if (counterpart === undefined) return { sport: type, dport: code, oneWay: true };
  return { sport: type, dport: counterpart, oneWay: false };
}

function hasPorts(protocol: number): boolean {
  return protocol === PROTO_TCP || protocol === PROTO_UDP || protocol === PROTO_SCTP || protocol === PROTO_ICMP || protocol === PROTO_ICMPV6;
}

const INPUT = new Uint8Array(64);
const INPUT_VIEW = new DataView(INPUT.buffer);
/** exact-length views for each possible input size (IPv4/IPv6, with/without ports), made once */
const INPUT_BY_LENGTH = Array.from({ length: 43 }, (_, n) => INPUT.subarray(0, n));
const DIGEST = new Uint8Array(20);
/** a Buffer view of DIGEST, made once: base64 without per-call allocation beyond the string */
const DIGEST_B64 = Buffer.from(DIGEST.buffer, DIGEST.byteOffset, 20);

/**
 * Community ID from addresses held as big-endian 32-bit words (IPv4 uses word 0), the flow table's
 * representation: no byte arrays are made. For ICMP pass type as sport and code as dport; the
 * mapping to port equivalents happens here, as in the spec's reference implementation.
 */
export function communityIdFromWords(
  ipv4: boolean,
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number,
  protocol: number,
  sport = 0,
  dport = 0,
  seed = 0,
): string {
  let sp = sport;
  let dp = dport;
  let oneWay = false;
  if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) {
    const m = icmpPorts(protocol, sport, dport);
    sp = m.sport;
    dp = m.dport;
    oneWay = m.oneWay;
  }
  // order endpoints: the numerically smaller (address, port) first
  let cmp = a0 !== b0 ? a0 - b0 : a1 !== b1 ? a1 - b1 : a2 !== b2 ? a2 - b2 : a3 - b3;
  if (cmp === 0) cmp = sp - dp;
  if (!oneWay && cmp > 0) {
    let t = a0;
    a0 = b0;
    b0 = t;
    t = a1;
    a1 = b1;
    b1 = t;
    t = a2;
    a2 = b2;
    b2 = t;
    t = a3;
    a3 = b3;
    b3 = t;
    t = sp;
    sp = dp;
    dp = t;
  }
  const v = INPUT_VIEW;
  v.setUint16(0, seed);
  let o = 2;
  v.setUint32(o, a0);
  o += 4;
  if (!ipv4) {
    v.setUint32(o, a1);
    v.setUint32(o + 4, a2);
    v.setUint32(o + 8, a3);
    o += 12;
  }
  v.setUint32(o, b0);
  o += 4;
  if (!ipv4) {
    v.setUint32(o, b1);
    v.setUint32(o + 4, b2);
    v.setUint32(o + 8, b3);
    o += 12;
  }
  INPUT[o] = protocol;
  INPUT[o + 1] = 0;
  o += 2;
  if (hasPorts(protocol)) {
    v.setUint16(o, sp);
    v.setUint16(o + 2, dp);
    o += 4;
  }
  sha1Into(INPUT_BY_LENGTH[o]!, o, DIGEST);
  return `1:${DIGEST_B64.toString('base64')}`;
}

/** The raw digest of the last Community ID computed (valid until the next call). */
export function lastCommunityIdDigest(): Uint8Array {
  return DIGEST;
}

function words(a: Uint8Array): [number, number, number, number] {
  const v = new DataView(a.buffer, a.byteOffset, a.byteLength);
  return a.length === 4 ? [v.getUint32(0), 0, 0, 0] : [v.getUint32(0), v.getUint32(4), v.getUint32(8), v.getUint32(12)];
}

/** Community ID from network-order address bytes (4 or 16 each). */
export function communityId(saddr: Uint8Array, daddr: Uint8Array, protocol: number, sport = 0, dport = 0, seed = 0): string {
  const [a0, a1, a2, a3] = words(saddr);
  const [b0, b1, b2, b3] = words(daddr);
  return communityIdFromWords(saddr.length === 4, a0, a1, a2, a3, b0, b1, b2, b3, protocol, sport, dport, seed);
}

/** Convenience for text addresses (tests, enrichment of documents that only carry strings). */
export function communityIdFromText(saddr: string, daddr: string, protocol: number, sport?: number, dport?: number, seed = 0): string {
  const s = parseIp(saddr);
  const d = parseIp(daddr);
  if (!s || !d) throw new Error(`not an IP address: ${s ? daddr : saddr}`);
  return communityId(s, d, protocol, sport, dport, seed);
}
