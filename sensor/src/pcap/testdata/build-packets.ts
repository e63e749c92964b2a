/**
 * Test-only frame builders. Real-traffic captures are the ground truth elsewhere; these exist to
 * reach the corners real traffic on this kernel cannot produce (BSD link types, VLAN stacks, IPv6
 * extension chains, lying lengths). Checksums are left zero: the decoder never verifies them.
 */
import { parseIp } from '../ip-address.ts';

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u16(n: number): Uint8Array {
  return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export function ip(text: string): Uint8Array {
  const bytes = parseIp(text);
  if (!bytes) throw new Error(`bad address in test: ${text}`);
  return bytes;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  options?: Uint8Array;
  id?: number;
  moreFragments?: boolean;
  fragmentOffset?: number;
  totalLength?: number;
  headerWords?: number;
}

export function ipv4(o: Ipv4Options): Uint8Array {
  const options = o.options ?? new Uint8Array(0);
  const headerLength = 20 + options.length;
  const h = new Uint8Array(20);
  h[0] = 0x40 | (o.headerWords ?? headerLength / 4);
  h.set(u16(o.totalLength ?? headerLength + o.payload.length), 2);
  h.set(u16(o.id ?? 1), 4);
  h.set(u16((o.moreFragments ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) & 0x1fff)), 6);
  h[8] = 64;
  h[9] = o.protocol;
  h.set(ip(o.src), 12);
  h.set(ip(o.dst), 16);
  return concat(h, options, o.payload);
}

export interface Ipv6Extension {
  type: number;
  /** raw extension bytes after the (next header, length) pair, or the full 8 bytes for fragment */
  body: Uint8Array;
}

export function ipv6(o: { src: string; dst: string; next: number; payload: Uint8Array; extensions?: Ipv6Extension[]; payloadLength?: number }): Uint8Array {
  const exts = o.extensions ?? [];
  const chain: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const ext = exts[i]!;
    const nextType = i + 1 < exts.length ? exts[i + 1]!.type : o.next;
    if (ext.type === 44) {
      const b = new Uint8Array(8);
      b.set(ext.body.subarray(0, 8));
      b[0] = nextType;
      chain.push(b);
    } else if (ext.type === 51) {
      const total = 2 + ext.body.length;
      const b = new Uint8Array(total);
      b[0] = nextType;
      b[1] = total / 4 - 2;
      b.set(ext.body, 2);
      chain.push(b);
    } else {
      const total = 2 + ext.body.length;
      const b = new Uint8Array(total);
      b[0] = nextType;
      b[1] = total / 8 - 1;
      b.set(ext.body, 2);
      chain.push(b);
    }
  }
  const rest = concat(...chain, o.payload);
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h.set(u16(o.payloadLength ?? rest.length), 4);
  h[6] = exts.length > 0 ? exts[0]!.type : o.next;
  h[7] = 64;
  h.set(ip(o.src), 8);
  h.set(ip(o.dst), 24);
  return concat(h, rest);
}

export interface TcpOptions {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags: number;
  window?: number;
  options?: Uint8Array;
  payload?: Uint8Array;
  dataOffsetWords?: number;
}

export function tcp(o: TcpOptions): Uint8Array {
  const options = o.options ?? new Uint8Array(0);
  const h = new Uint8Array(20);
  h.set(u16(o.sport), 0);
  h.set(u16(o.dport), 2);
  h.set(u32(o.seq ?? 1000), 4);
  h.set(u32(o.ack ?? 0), 8);
  h[12] = ((o.dataOffsetWords ?? (20 + options.length) / 4) << 4) | ((o.flags >> 8) & 1);
  h[13] = o.flags & 0xff;
  h.set(u16(o.window ?? 65535), 14);
  return concat(h, options, o.payload ?? new Uint8Array(0));
}

export function udp(o: { sport: number; dport: number; payload?: Uint8Array; length?: number }): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  const h = new Uint8Array(8);
  h.set(u16(o.sport), 0);
  h.set(u16(o.dport), 2);
  h.set(u16(o.length ?? 8 + payload.length), 4);
  return concat(h, payload);
}

export function icmp(type: number, code: number, rest: Uint8Array = new Uint8Array(4)): Uint8Array {
  return concat(new Uint8Array([type, code, 0, 0]), rest);
}

export function ethernet(etype: number, payload: Uint8Array, vlans: { tpid: number; id: number }[] = []): Uint8Array {
  const macs = new Uint8Array([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  // tag i is [TPID_i][TCI_i]; the ethertype after the last TCI is the real one
  const chain: Uint8Array[] = [macs];
  for (const v of vlans) chain.push(u16(v.tpid), u16(v.id));
  chain.push(u16(etype), payload);
  return concat(...chain);
}

export function sll(etype: number, payload: Uint8Array, arphrd = 1): Uint8Array {
  const h = new Uint8Array(16);
  h.set(u16(0), 0);
  h.set(u16(arphrd), 2);
  h.set(u16(6), 4);
  h.set(u16(etype), 14);
  return concat(h, payload);
}

export function sll2(etype: number, payload: Uint8Array, arphrd = 1): Uint8Array {
  const h = new Uint8Array(20);
  h.set(u16(etype), 0);
  h.set(u32(1), 4);
  h.set(u16(arphrd), 8);
  h[11] = 6;
  return concat(h, payload);
}

/** BSD loopback header: address family in host order (NULL) or network order (LOOP). */
/**
 * Linux NFLOG frame: family, version 0, resource id (big-endian), then little-endian TLVs (length includes the
 * 4-byte TLV header, values padded to 4 bytes): hardware protocol, the log prefix, and the IP packet itself.
 */
export function nflog(family: number, payload: Uint8Array, prefix: string): Uint8Array {
  const tlv = (type: number, value: Uint8Array) => {
    const len = 4 + value.length;
    const out = new Uint8Array((len + 3) & ~3);
    new DataView(out.buffer).setUint16(0, len, true);
    new DataView(out.buffer).setUint16(2, type, true);
    out.set(value, 4);
    return out;
  };
  const hwProto = new Uint8Array([family === 2 ? 0x08 : 0x86, family === 2 ? 0x00 : 0xdd, 0, 0]);
  return concat(new Uint8Array([family, 0, 0, 1]), tlv(1, hwProto), tlv(10, concat(new TextEncoder().encode(prefix), new Uint8Array([0]))), tlv(9, payload));
}

export function nullHeader(family: number, payload: Uint8Array, littleEndian: boolean): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, family, littleEndian);
  return concat(h, payload);
}
