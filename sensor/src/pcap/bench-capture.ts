/**
 * Builds the benchmark capture: the real loopback traffic of testdata/lo.pcapng (DNS over UDP and
 * TCP, HTTP, ICMP) replayed as many overlapping copies, each copy from its own client address and
 * ephemeral ports, so the flow table holds thousands of concurrent flows as a busy host would.
 * Frames are cut at a 512-byte snap length (what a flow sensor needs; DNS messages stay whole).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from './capture-file.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket } from './decode.ts';

interface Template {
  frame: Uint8Array;
  wireLen: number;
  t: number;
  /** offsets of IPv4 addresses equal to 127.0.0.1 (the client), to rewrite per copy */
  clientAddrOffsets: number[];
  /** offsets of 16-bit ephemeral ports (>= 32768), to shift per copy */
  portOffsets: number[];
}

const SNAP = 512;

function templates(): Template[] {
  const out: Template[] = [];
  const pkt = new DecodedPacket();
  const stats = new DecodeStats();
  let t0 = -1;
  readCaptureFile(join(import.meta.dir, 'testdata', 'lo.pcapng'), (r) => {
    const t = r.tsSec + r.tsNsec / 1e9;
    if (t0 < 0) t0 = t;
    const frame = r.data.slice(r.offset, r.offset + Math.min(r.capLen, SNAP));
    const tpl: Template = { frame, wireLen: r.wireLen, t: t - t0, clientAddrOffsets: [], portOffsets: [] };
    if (decodePacket(r, pkt, stats)) {
      const base = r.offset;
      for (const off of [pkt.srcOffset, pkt.dstOffset]) {
        if (pkt.ipVersion === 4 && r.data[off] === 127 && r.data[off + 1] === 0 && r.data[off + 2] === 0 && r.data[off + 3] === 1) tpl.clientAddrOffsets.push(off - base);
      }
      if (pkt.hasTransport && pkt.srcPort + pkt.dstPort > 0) {
        if (pkt.srcPort >= 32768) tpl.portOffsets.push(pkt.transportOffset - base);
        if (pkt.dstPort >= 32768) tpl.portOffsets.push(pkt.transportOffset + 2 - base);
      }
    }
    out.push(tpl);
  });
  return out;
}

/**
 * Write the benchmark capture (pcap, ns) with about `packets` packets; returns the exact count.
 * `distinctClients: false` keeps every copy on the original addresses and ports, so the copies fold
 * into a few long flows: the per-packet cost without the per-flow one.
 */
export function writeBenchCapture(path: string, packets: number, spacingSec = 0.002, distinctClients = true): number {
  const tpls = templates();
  const copies = Math.max(1, Math.ceil(packets / tpls.length));
  // merge copies by time: packet i of copy k is at tpl.t + k * spacing
  const keys: number[] = new Array(copies * tpls.length);
  for (let k = 0, n = 0; k < copies; k++) for (let i = 0; i < tpls.length; i++, n++) keys[n] = n;
  keys.sort((a, b) => tpls[a % tpls.length]!.t + Math.floor(a / tpls.length) * spacingSec - (tpls[b % tpls.length]!.t + Math.floor(b / tpls.length) * spacingSec));
  const fd = openSync(path, 'w');
  const buf = new Uint8Array(4 << 20);
  const view = new DataView(buf.buffer);
  let used = 0;
  const flush = () => {
    writeSync(fd, buf, 0, used);
    used = 0;
  };
  view.setUint32(0, 0xa1b23c4d, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, SNAP, true);
  view.setUint32(20, 1, true);
  used = 24;
  const T0 = 1_800_000_000;
  for (const n of keys) {
    const k = Math.floor(n / tpls.length);
    const tpl = tpls[n % tpls.length]!;
    if (used + 16 + tpl.frame.length > buf.length) flush();
    const t = tpl.t + k * spacingSec;
    const sec = Math.floor(t);
    view.setUint32(used, T0 + sec, true);
    view.setUint32(used + 4, Math.round((t - sec) * 1e9) % 1e9, true);
    view.setUint32(used + 8, tpl.frame.length, true);
    view.setUint32(used + 12, tpl.wireLen, true);
    const p = used + 16;
    buf.set(tpl.frame, p);
    if (distinctClients) {
      for (const o of tpl.clientAddrOffsets) {
        buf[p + o] = 10;
        buf[p + o + 1] = (k >> 8) & 255;
        buf[p + o + 2] = k & 255;
        buf[p + o + 3] = 1 + ((k >> 16) & 127);
      }
      for (const o of tpl.portOffsets) {
        const port = (buf[p + o]! << 8) | buf[p + o + 1]!;
        const shifted = 32768 + ((port - 32768 + k * 97) % 28000);
        buf[p + o] = shifted >> 8;
        buf[p + o + 1] = shifted & 255;
      }
    }
    used = p + tpl.frame.length;
  }
  flush();
  closeSync(fd);
  return keys.length;
}
