/**
 * Test-only: a DNS exchange whose response is too large for one packet and travels as IP fragments (IPv4 and
 * IPv6), as a large EDNS answer does on the wire, written as a capture file for the decoder and for tshark.
 */
import { concat, ethernet, ipv4, ipv6, udp } from './build-packets.ts';
import { message, question, record } from './build-dns.ts';
import type { OutPacket } from './write-capture.ts';

const PROTO_UDP = 17;

export interface FragmentedDns {
  name: string;
  /** every A record the response carries */
  addresses: string[];
  packets: OutPacket[];
}

/** A response with `count` A records: 16 bytes each, so 100 make a datagram of about 1.7 kB. */
export function dnsResponse(name: string, id: number, count: number): { payload: Uint8Array; addresses: string[] } {
  const addresses = Array.from({ length: count }, (_, i) => `198.51.${100 + (i >> 8)}.${i & 0xff}`);
  const q = question(name, 1);
  const answers = addresses.map((a) => record(new Uint8Array([0xc0, 12]), 1, 300, new Uint8Array(a.split('.').map(Number))));
  return { payload: message({ id, flags: 0x8180, questions: [q], answers }), addresses };
}

/** Split an IP payload into fragment payloads of at most `size` bytes (a multiple of 8, as the offsets require). */
export function split(payload: Uint8Array, size: number): { offset: number; more: boolean; data: Uint8Array }[] {
  const out: { offset: number; more: boolean; data: Uint8Array }[] = [];
  for (let off = 0; off < payload.length; off += size) {
    out.push({ offset: off, more: off + size < payload.length, data: payload.subarray(off, Math.min(payload.length, off + size)) });
  }
  return out;
}

/**
 * Client 10.0.0.2:40000 (or 2001:db8::2) asks 10.0.0.53:53 (2001:db8::53); the answer comes back in fragments,
 * in the order given (default: in order).
 */
export function fragmentedDnsCapture(
  version: 4 | 6,
  o: { order?: number[]; fragmentSize?: number; startSec?: number; clientPort?: number; ipId?: number } = {},
): FragmentedDns {
  const name = version === 4 ? 'big.example.com' : 'big6.example.com';
  const id = version === 4 ? 0x4444 : 0x6666;
  const client = version === 4 ? '10.0.0.2' : '2001:db8::2';
  const server = version === 4 ? '10.0.0.53' : '2001:db8::53';
  const port = o.clientPort ?? 40000;
  const query = udp({ sport: port, dport: 53, payload: message({ id, flags: 0x0100, questions: [question(name, 1)] }) });
  const { payload, addresses } = dnsResponse(name, id, 100);
  const datagram = udp({ sport: 53, dport: port, payload });
  const pieces = split(datagram, o.fragmentSize ?? 600);
  const ipId = o.ipId ?? 0x1357;
  const frames = pieces.map((f) => {
    if (version === 4) return ethernet(0x0800, ipv4({ src: server, dst: client, protocol: PROTO_UDP, payload: f.data, id: ipId, moreFragments: f.more, fragmentOffset: f.offset / 8 }));
    const frag = new Uint8Array(8);
    frag[2] = (f.offset >> 8) & 0xff;
    frag[3] = (f.offset & 0xf8) | (f.more ? 1 : 0);
    new DataView(frag.buffer).setUint32(4, ipId);
    return ethernet(0x86dd, ipv6({ src: server, dst: client, next: PROTO_UDP, payload: f.data, extensions: [{ type: 44, body: frag }] }));
  });
  const queryFrame = version === 4 ? ethernet(0x0800, ipv4({ src: client, dst: server, protocol: PROTO_UDP, payload: query })) : ethernet(0x86dd, ipv6({ src: client, dst: server, next: PROTO_UDP, payload: query }));
  const start = o.startSec ?? 1_700_000_000;
  const order = o.order ?? frames.map((_, i) => i);
  const packets: OutPacket[] = [{ data: queryFrame, tsSec: start, tsNsec: 0 }];
  order.forEach((i, n) => packets.push({ data: frames[i]!, tsSec: start, tsNsec: 1_000_000 * (n + 1) }));
  return { name, addresses, packets: packets.map((p) => ({ ...p, data: concat(p.data) })) };
}
