/**
 * Test-only capture writers: re-encode packets (usually taken from a real capture) as pcap in either
 * byte order and resolution, or as pcapng with several interfaces. tshark reads every file these
 * write, and the tests use it as the judge of what the file holds.
 */

export interface OutPacket {
  data: Uint8Array;
  wireLen?: number;
  tsSec: number;
  tsNsec: number;
  interfaceId?: number;
}

export function writePcap(packets: OutPacket[], o: { linkType: number; littleEndian?: boolean; nanos?: boolean; snapLen?: number }): Uint8Array {
  const le = o.littleEndian ?? true;
  const total = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, o.snapLen ?? 262144, le);
  v.setUint32(20, o.linkType, le);
  let p = 24;
  for (const pkt of packets) {
    v.setUint32(p, pkt.tsSec, le);
    v.setUint32(p + 4, o.nanos ? pkt.tsNsec : Math.floor(pkt.tsNsec / 1000), le);
    v.setUint32(p + 8, pkt.data.length, le);
    v.setUint32(p + 12, pkt.wireLen ?? pkt.data.length, le);
    out.set(pkt.data, p + 16);
    p += 16 + pkt.data.length;
  }
  return out;
}

export interface OutInterface {
  linkType: number;
  /** if_tsresol byte: 6 = µs, 9 = ns, 0x80|n = 2^-n */
  tsresol?: number;
  name?: string;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** pcapng with one section: SHB, one IDB per interface, then an EPB per packet (SPB when asked). */
export function writePcapng(interfaces: OutInterface[], packets: OutPacket[], o: { littleEndian?: boolean; simple?: boolean } = {}): Uint8Array {
  const le = o.littleEndian ?? true;
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + pad4(body.length);
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, le);
    v.setUint32(4, len, le);
    b.set(body, 8);
    v.setUint32(len - 4, len, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sv = new DataView(shb.buffer);
  sv.setUint32(0, 0x1a2b3c4d, le);
  sv.setUint16(4, 1, le);
  sv.setUint16(6, 0, le);
  sv.setBigInt64(8, -1n, le);
  block(0x0a0d0d0a, shb);
  for (const iface of interfaces) {
    const opts: number[] = [];
    const opt = (code: number, value: Uint8Array): void => {
      const head = new Uint8Array(4);
      new DataView(head.buffer).setUint16(0, code, le);
      new DataView(head.buffer).setUint16(2, value.length, le);
      opts.push(...head, ...value, ...new Uint8Array(pad4(value.length) - value.length));
    };
    if (iface.name) opt(2, new TextEncoder().encode(iface.name));
    if (iface.tsresol !== undefined) opt(9, new Uint8Array([iface.tsresol]));
    if (opts.length) opts.push(0, 0, 0, 0);
    const body = new Uint8Array(8 + opts.length);
    const bv = new DataView(body.buffer);
    bv.setUint16(0, iface.linkType, le);
    bv.setUint32(4, 262144, le);
    body.set(opts, 8);
    block(1, body);
  }
  for (const pkt of packets) {
    if (o.simple) {
      const body = new Uint8Array(4 + pkt.data.length);
      new DataView(body.buffer).setUint32(0, pkt.wireLen ?? pkt.data.length, le);
      body.set(pkt.data, 4);
      block(3, body);
      continue;
    }
    const iface = interfaces[pkt.interfaceId ?? 0]!;
    const r = iface.tsresol ?? 6;
    const tps = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
    const ticks = BigInt(pkt.tsSec) * tps + (BigInt(pkt.tsNsec) * tps) / 1_000_000_000n;
    const body = new Uint8Array(20 + pkt.data.length);
    const bv = new DataView(body.buffer);
    bv.setUint32(0, pkt.interfaceId ?? 0, le);
    bv.setUint32(4, Number(ticks >> 32n), le);
    bv.setUint32(8, Number(ticks & 0xffffffffn), le);
    bv.setUint32(12, pkt.data.length, le);
    bv.setUint32(16, pkt.wireLen ?? pkt.data.length, le);
    body.set(pkt.data, 20);
    block(6, body);
  }
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const b of blocks) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}
