/**
 * DNS message parser (RFC 1035, with EDNS(0) from RFC 6891). Names are decoded with compression
 * guarded two ways: every pointer must jump strictly below the previous jump target (so a chain of
 * pointers cannot cycle, whatever labels sit between them) and a name may not exceed 255 bytes.
 * Anything that breaks a bound is counted in DnsStats and the parser returns null or stops at the
 * record that broke; it never throws on packet content.
 *
 * Names are lower-cased (DNS is case-insensitive and resolvers randomise case, RFC draft "0x20")
 * and printed in presentation format: dots between labels, `\.`, `\\` and `\DDD` escapes inside.
 */
import { formatIpv4, formatIpv6 } from './ip-address.ts';

export const DNS_TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  39: 'DNAME',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  50: 'NSEC3',
  52: 'TLSA',
  64: 'SVCB',
  65: 'HTTPS',
  99: 'SPF',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

export const DNS_CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

export const DNS_RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADVERS',
  17: 'BADKEY',
  18: 'BADTIME',
  19: 'BADMODE',
  20: 'BADNAME',
  21: 'BADALG',
  22: 'BADTRUNC',
  23: 'BADCOOKIE',
};

export const DNS_OPCODE_NAMES: Record<number, string> = { 0: 'QUERY', 1: 'IQUERY', 2: 'STATUS', 4: 'NOTIFY', 5: 'UPDATE', 6: 'DSO' };

export function dnsTypeName(type: number): string {
  return DNS_TYPE_NAMES[type] ?? `TYPE${type}`;
}
export function dnsClassName(cls: number): string {
  return DNS_CLASS_NAMES[cls] ?? `CLASS${cls}`;
}
export function dnsRcodeName(rcode: number): string {
  return DNS_RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** presentation form of the RDATA (dig style); the address for A/AAAA */
  data: string;
}

export interface DnsMessage {
  id: number;
  /** true for a response */
  response: boolean;
  opcode: number;
  /** 12-bit when EDNS extends it */
  rcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  authenticData: boolean;
  checkingDisabled: boolean;
  /** EDNS DO bit; undefined without an OPT record */
  dnssecOk?: boolean;
  ednsUdpSize?: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorityCount: number;
  additionalCount: number;
}

export class DnsStats {
  messages = 0;
  /** message ends inside the header, a name, a record header or RDATA */
  truncated = 0;
  /** a compression pointer that does not go strictly backwards (loops, forward references) */
  bad_pointer = 0;
  /** label types 0x40/0x80 (extended/reserved) */
  bad_label = 0;
  /** a name longer than 255 bytes */
  name_too_long = 0;
  /** RDATA whose length does not fit its type (A not 4 bytes, a name running past RDATA…) */
  bad_rdata = 0;
  /** more records than we agree to read in one message */
  too_many_records = 0;

  malformed(): number {
    return this.truncated + this.bad_pointer + this.bad_label + this.name_too_long + this.bad_rdata + this.too_many_records;
  }
}

/** More than this per section is not a real resolver talking; parse that many and count the rest. */
const MAX_RECORDS = 256;
const MAX_JUMPS = 64;

/** Thrown internally to unwind from deep inside a name or RDATA; never escapes parseDns. */
class DnsBound {
  constructor(readonly reason: keyof Omit<DnsStats, 'messages' | 'malformed'>) {}
}

/** Parse a DNS message at d[off, off+len). Returns null (and counts why) for a message that is not DNS. */
export function parseDns(d: Uint8Array, off: number, len: number, stats: DnsStats): DnsMessage | null {
  if (len < 12) {
    stats.truncated++;
    return null;
  }
  const end = off + len;
  const flags = (d[off + 2]! << 8) | d[off + 3]!;
  const msg: DnsMessage = {
    id: (d[off]! << 8) | d[off + 1]!,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    authenticData: (flags & 0x0020) !== 0,
    checkingDisabled: (flags & 0x0010) !== 0,
    questions: [],
    answers: [],
    authorityCount: (d[off + 8]! << 8) | d[off + 9]!,
    additionalCount: (d[off + 10]! << 8) | d[off + 11]!,
  };
  const qd = (d[off + 4]! << 8) | d[off + 5]!;
  const an = (d[off + 6]! << 8) | d[off + 7]!;
  stats.messages++;
  let p = off + 12;
  try {
    if (qd > MAX_RECORDS || an > MAX_RECORDS) stats.too_many_records++;
    for (let i = 0; i < Math.min(qd, MAX_RECORDS); i++) {
      const name = readName(d, p, off, end);
      const next = nameEnd;
      if (next + 4 > end) throw new DnsBound('truncated');
      msg.questions.push({ name, type: (d[next]! << 8) | d[next + 1]!, class: (d[next + 2]! << 8) | d[next + 3]! });
      p = next + 4;
    }
    for (let i = 0; i < Math.min(an, MAX_RECORDS); i++) {
      msg.answers.push(readRecord(d, p, off, end));
      p = recordEnd;
    }
    // Authority records are skipped; the additional section is read only to find EDNS's OPT record.
    for (let i = 0; i < Math.min(msg.authorityCount, MAX_RECORDS); i++) p = skipRecord(d, p, off, end);
    for (let i = 0; i < Math.min(msg.additionalCount, MAX_RECORDS); i++) {
      readName(d, p, off, end, false);
      const next = nameEnd;
      if (next + 10 > end) throw new DnsBound('truncated');
      const type = (d[next]! << 8) | d[next + 1]!;
      const rdlen = (d[next + 8]! << 8) | d[next + 9]!;
      if (next + 10 + rdlen > end) throw new DnsBound('truncated');
      if (type === 41) {
        msg.ednsUdpSize = (d[next + 2]! << 8) | d[next + 3]!;
        msg.rcode |= d[next + 4]! << 4; // extended RCODE: upper 8 bits
        msg.dnssecOk = (d[next + 6]! & 0x80) !== 0;
      }
      p = next + 10 + rdlen;
    }
  } catch (error) {
    if (!(error instanceof DnsBound)) throw error;
    stats[error.reason]++;
    // what was parsed before the damage is still worth reporting, but a message without even its
    // question is noise
    if (msg.questions.length === 0) return null;
  }
  return msg;
}

function skipRecord(d: Uint8Array, p: number, msgStart: number, end: number): number {
  readName(d, p, msgStart, end, false);
  const next = nameEnd;
  if (next + 10 > end) throw new DnsBound('truncated');
  const rdlen = (d[next + 8]! << 8) | d[next + 9]!;
  if (next + 10 + rdlen > end) throw new DnsBound('truncated');
  return next + 10 + rdlen;
}

/** Position just after the record readRecord decoded last. */
let recordEnd = 0;

function readRecord(d: Uint8Array, p: number, msgStart: number, end: number): DnsRecord {
  const name = readName(d, p, msgStart, end);
  const q = nameEnd;
  if (q + 10 > end) throw new DnsBound('truncated');
  const type = (d[q]! << 8) | d[q + 1]!;
  const cls = (d[q + 2]! << 8) | d[q + 3]!;
  const ttl = ((d[q + 4]! << 24) | (d[q + 5]! << 16) | (d[q + 6]! << 8) | d[q + 7]!) >>> 0;
  const rdlen = (d[q + 8]! << 8) | d[q + 9]!;
  const rd = q + 10;
  const rdEnd = rd + rdlen;
  if (rdEnd > end) throw new DnsBound('truncated');
  const record: DnsRecord = { name, type, class: cls, ttl, data: rdata(d, type, rd, rdEnd, msgStart, end) };
  recordEnd = rdEnd;
  return record;
}

/** A name inside RDATA: compression may point anywhere before, but the inline part must stay in RDATA. */
function rdName(d: Uint8Array, p: number, rdEnd: number, msgStart: number, end: number): string {
  const name = readName(d, p, msgStart, end);
  if (nameEnd > rdEnd) throw new DnsBound('bad_rdata');
  return name;
}

function characterStrings(d: Uint8Array, p: number, rdEnd: number): string[] {
  const out: string[] = [];
  while (p < rdEnd) {
    const n = d[p]!;
    if (p + 1 + n > rdEnd) throw new DnsBound('bad_rdata');
    let s = '';
    for (let i = p + 1; i < p + 1 + n; i++) {
      const c = d[i]!;
      s += c === 0x22 || c === 0x5c ? `\\${String.fromCharCode(c)}` : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`;
    }
    out.push(s);
    p += 1 + n;
  }
  return out;
}

function u16(d: Uint8Array, p: number): number {
  return (d[p]! << 8) | d[p + 1]!;
}

function u32(d: Uint8Array, p: number): number {
  return ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
}

function rdata(d: Uint8Array, type: number, p: number, rdEnd: number, msgStart: number, end: number): string {
  const len = rdEnd - p;
  switch (type) {
    case 1:
      if (len !== 4) throw new DnsBound('bad_rdata');
      return formatIpv4(d, p);
    case 28:
      if (len !== 16) throw new DnsBound('bad_rdata');
      return formatIpv6(d, p);
    case 2:
    case 5:
    case 12:
    case 39:
      return rdName(d, p, rdEnd, msgStart, end);
    case 15: {
      if (len < 3) throw new DnsBound('bad_rdata');
      return `${u16(d, p)} ${rdName(d, p + 2, rdEnd, msgStart, end)}`;
    }
    case 16:
    case 99:
    case 13:
      // presentation format, as dig prints it: each character-string quoted
      return characterStrings(d, p, rdEnd)
        .map((s) => `"${s}"`)
        .join(' ');
    case 33: {
      if (len < 7) throw new DnsBound('bad_rdata');
      return `${u16(d, p)} ${u16(d, p + 2)} ${u16(d, p + 4)} ${rdName(d, p + 6, rdEnd, msgStart, end)}`;
    }
    case 6: {
      const mname = rdName(d, p, rdEnd, msgStart, end);
      const rname = rdName(d, nameEnd, rdEnd, msgStart, end);
      const r = nameEnd;
      if (r + 20 > rdEnd) throw new DnsBound('bad_rdata');
      return `${mname} ${rname} ${u32(d, r)} ${u32(d, r + 4)} ${u32(d, r + 8)} ${u32(d, r + 12)} ${u32(d, r + 16)}`;
    }
    case 257: {
      if (len < 2 || p + 2 + d[p + 1]! > rdEnd) throw new DnsBound('bad_rdata');
      const tagLen = d[p + 1]!;
      const tag = new TextDecoder().decode(d.subarray(p + 2, p + 2 + tagLen));
      const value = new TextDecoder().decode(d.subarray(p + 2 + tagLen, rdEnd));
      return `${d[p]} ${tag} "${value}"`;
    }
    default: {
      // RFC 3597 generic form for everything else
      let hex = '';
      for (let i = p; i < rdEnd; i++) hex += d[i]!.toString(16).padStart(2, '0');
      return len === 0 ? '\\# 0' : `\\# ${len} ${hex}`;
    }
  }
}

/** Characters of the name being decoded: 255 wire bytes expand to at most 4x with \DDD escapes. */
const NAME_CHARS = new Uint16Array(1024);
/** exact-length views of NAME_CHARS, made on first use, so decoding a name allocates only its string */
const NAME_VIEWS: Uint16Array[] = [];

/** Position just after the name readName decoded last (a module variable: no tuple per name). */
let nameEnd = 0;

/** Decode (or with build=false only validate and skip) the possibly compressed name at p. */
function readName(d: Uint8Array, p: number, msgStart: number, end: number, build = true): string {
  const chars = NAME_CHARS;
  let n = 0;
  let next = -1;
  let limit = p; // every jump must land strictly below this, which then drops to the target
  let wire = 0;
  let jumps = 0;
  for (;;) {
    if (p >= end) throw new DnsBound('truncated');
    const len = d[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) throw new DnsBound('truncated');
      const target = msgStart + (((len & 0x3f) << 8) | d[p + 1]!);
      if (target >= limit || ++jumps > MAX_JUMPS) throw new DnsBound('bad_pointer');
      if (next < 0) next = p + 2;
      limit = target;
      p = target;
      continue;
    }
    if (kind !== 0) throw new DnsBound('bad_label');
    if (p + 1 + len > end) throw new DnsBound('truncated');
    wire += len + 1;
    if (wire > 254) throw new DnsBound('name_too_long'); // 255 including the root's zero byte
    if (!build) {
      p += 1 + len;
      continue;
    }
    if (n > 0) chars[n++] = 0x2e;
    for (let i = p + 1; i <= p + len; i++) {
      const c = d[i]!;
      if (c >= 0x41 && c <= 0x5a) chars[n++] = c + 0x20;
      else if (c === 0x2e || c === 0x5c) {
        chars[n++] = 0x5c;
        chars[n++] = c;
      } else if (c > 0x20 && c < 0x7f) chars[n++] = c;
      else {
        chars[n++] = 0x5c;
        chars[n++] = 0x30 + Math.floor(c / 100);
        chars[n++] = 0x30 + (Math.floor(c / 10) % 10);
        chars[n++] = 0x30 + (c % 10);
      }
    }
    p += 1 + len;
  }
  nameEnd = next;
  if (n === 0) return build ? '.' : '';
  const view = (NAME_VIEWS[n] ??= chars.subarray(0, n));
  return String.fromCharCode.apply(null, view as unknown as number[]);
}

/** ECS dns.header_flags */
export function dnsHeaderFlags(m: DnsMessage): string[] {
  const out: string[] = [];
  if (m.authoritative) out.push('AA');
  if (m.truncated) out.push('TC');
  if (m.recursionDesired) out.push('RD');
  if (m.recursionAvailable) out.push('RA');
  if (m.authenticData) out.push('AD');
  if (m.checkingDisabled) out.push('CD');
  if (m.dnssecOk) out.push('DO');
  return out;
}
