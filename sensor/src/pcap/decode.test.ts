import { describe, expect, test } from 'bun:test';
import { DecodeStats } from './decode-stats.ts';
import {
  DecodedPacket,
  decodePacket,
  FRAG_FIRST,
  FRAG_LATER,
  FRAG_NONE,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  TCP_ACK,
  TCP_NS,
  TCP_PSH,
  TCP_SYN,
} from './decode.ts';
import { formatIp } from './ip-address.ts';
import {
  DLT_RAW,
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
import { PacketRecord } from './packet-record.ts';
import { concat, ethernet, icmp, ipv4, ipv6, nflog, nullHeader, sll, sll2, tcp, udp } from './testdata/build-packets.ts';

function decode(frame: Uint8Array, linkType: number, opts: { wireLen?: number; pad?: number } = {}) {
  // put the frame at an offset inside a bigger buffer, as the readers do
  const pad = opts.pad ?? 7;
  const buf = new Uint8Array(pad + frame.length + 5).fill(0xee);
  buf.set(frame, pad);
  const rec = new PacketRecord();
  rec.setBuffer(buf);
  rec.offset = pad;
  rec.capLen = frame.length;
  rec.wireLen = opts.wireLen ?? frame.length;
  rec.linkType = linkType;
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  const ok = decodePacket(rec, out, stats);
  return { ok, out, stats, src: ok ? formatIp(buf, out.srcOffset, out.ipVersion) : '', dst: ok ? formatIp(buf, out.dstOffset, out.ipVersion) : '' };
}

const tcpSyn = tcp({ sport: 40000, dport: 80, flags: TCP_SYN, seq: 7, options: new Uint8Array([2, 4, 5, 0xb4, 1, 1, 4, 2]) });
const v4tcp = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: PROTO_TCP, payload: tcpSyn });
const v6udp = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_UDP, payload: udp({ sport: 5353, dport: 53, payload: new Uint8Array(12) }) });

describe('link layers', () => {
  const cases: [string, number, Uint8Array][] = [
    ['ethernet', LINKTYPE_ETHERNET, ethernet(0x0800, v4tcp)],
    ['linux sll', LINKTYPE_LINUX_SLL, sll(0x0800, v4tcp, 772)],
    ['linux sll2', LINKTYPE_LINUX_SLL2, sll2(0x0800, v4tcp)],
    ['bsd null little-endian', LINKTYPE_NULL, nullHeader(2, v4tcp, true)],
    ['bsd null big-endian', LINKTYPE_NULL, nullHeader(2, v4tcp, false)],
    ['openbsd loop', LINKTYPE_LOOP, nullHeader(2, v4tcp, false)],
    ['raw (file)', LINKTYPE_RAW, v4tcp],
    ['raw (live DLT)', DLT_RAW, v4tcp],
    ['ipv4 linktype', LINKTYPE_IPV4, v4tcp],
  ];
  for (const [name, linkType, frame] of cases) {
    test(`${name} carries IPv4/TCP`, () => {
      const r = decode(frame, linkType);
      expect(r.ok).toBe(true);
      expect(r.src).toBe('10.0.0.1');
      expect(r.dst).toBe('10.0.0.2');
      expect(r.out.protocol).toBe(PROTO_TCP);
      expect(r.out.srcPort).toBe(40000);
      expect(r.out.dstPort).toBe(80);
      expect(r.out.tcpFlags).toBe(TCP_SYN);
      expect(r.out.tcpHeaderLength).toBe(28);
      expect(r.stats.malformed.total()).toBe(0);
    });
  }

  test('IPv6 over every link type, including the BSD AF_INET6 values', () => {
    for (const [linkType, frame] of [
      [LINKTYPE_ETHERNET, ethernet(0x86dd, v6udp)],
      [LINKTYPE_LINUX_SLL, sll(0x86dd, v6udp)],
      [LINKTYPE_LINUX_SLL2, sll2(0x86dd, v6udp)],
      [LINKTYPE_NULL, nullHeader(24, v6udp, true)],
      [LINKTYPE_NULL, nullHeader(28, v6udp, false)],
      [LINKTYPE_NULL, nullHeader(30, v6udp, true)],
      [LINKTYPE_IPV6, v6udp],
    ] as [number, Uint8Array][]) {
      const r = decode(frame, linkType);
      expect(r.ok).toBe(true);
      expect(r.src).toBe('fd00::1');
      expect(r.dst).toBe('fd00::2');
      expect(r.out.protocol).toBe(PROTO_UDP);
      expect(r.out.srcPort).toBe(5353);
      expect(r.out.payloadLength).toBe(12);
    }
  });

  test('non-IP frames are counted, not errors', () => {
    const arp = decode(ethernet(0x0806, new Uint8Array(28)), LINKTYPE_ETHERNET);
    expect(arp.ok).toBe(false);
    expect(arp.stats.traffic.non_ip).toBe(1);
    const netlink = decode(sll(0x0000, new Uint8Array(20), 824), LINKTYPE_LINUX_SLL);
    expect(netlink.stats.traffic.non_ip).toBe(1);
    const unknownAf = decode(nullHeader(7, v4tcp, true), LINKTYPE_NULL);
    expect(unknownAf.stats.traffic.non_ip).toBe(1);
    const unsupported = decode(v4tcp, 147);
    expect(unsupported.stats.traffic.unsupported_link_type).toBe(1);
    expect(arp.stats.malformed.total() + unsupported.stats.malformed.total()).toBe(0);
  });
});

describe('NFLOG', () => {
  test('the logged packet is found among the TLVs, IPv4 and IPv6', () => {
    expect(decode(nflog(2, v4tcp, 'drop'), LINKTYPE_NFLOG)).toMatchObject({ ok: true, src: '10.0.0.1', out: { dstPort: 80 } });
    expect(decode(nflog(10, v6udp, ''), LINKTYPE_NFLOG)).toMatchObject({ ok: true, src: 'fd00::1', out: { dstPort: 53 } });
  });

  test('a TLV running past the frame and a log entry without a packet are counted, not decoded', () => {
    const bad = nflog(2, v4tcp, 'x');
    new DataView(bad.buffer, bad.byteOffset).setUint16(4, 0xfff0, true);
    const cut = decode(bad, LINKTYPE_NFLOG);
    expect(cut.ok).toBe(false);
    expect(cut.stats.malformed.nflog_bad_tlv).toBe(1);
    const empty = decode(new Uint8Array([2, 0, 0, 1, 8, 0, 10, 0, 0x41, 0, 0, 0]), LINKTYPE_NFLOG);
    expect(empty.ok).toBe(false);
    expect(empty.stats.traffic.non_ip).toBe(1);
  });
});

describe('VLAN', () => {
  test('single 802.1Q tag', () => {
    const r = decode(ethernet(0x0800, v4tcp, [{ tpid: 0x8100, id: 0x2000 | 42 }]), LINKTYPE_ETHERNET);
    expect(r.out.vlanId).toBe(42);
    expect(r.out.dstPort).toBe(80);
    expect(r.stats.traffic.vlan_tagged).toBe(1);
  });
  test('stacked 802.1ad + 802.1Q (QinQ) reports the outer id', () => {
    const r = decode(
      ethernet(0x86dd, v6udp, [
        { tpid: 0x88a8, id: 100 },
        { tpid: 0x8100, id: 200 },
      ]),
      LINKTYPE_ETHERNET,
    );
    expect(r.ok).toBe(true);
    expect(r.out.vlanId).toBe(100);
    expect(r.out.dstPort).toBe(53);
  });
  test('VLAN inside Linux cooked capture', () => {
    const r = decode(sll2(0x8100, concat(new Uint8Array([0, 7, 0x08, 0x00]), v4tcp)), LINKTYPE_LINUX_SLL2);
    expect(r.out.vlanId).toBe(7);
    expect(r.out.srcPort).toBe(40000);
  });
  test('a tag stack deeper than 8 is malformed', () => {
    const tags = Array.from({ length: 9 }, () => ({ tpid: 0x8100, id: 1 }));
    const r = decode(ethernet(0x0800, v4tcp, tags), LINKTYPE_ETHERNET);
    expect(r.ok).toBe(false);
    expect(r.stats.malformed.vlan_too_deep).toBe(1);
  });
});

describe('IPv4', () => {
  test('options are skipped by IHL and walked for sanity', () => {
    const rr = new Uint8Array([7, 7, 4, 0, 0, 0, 0, 1]); // record route, then NOP... padded to 8
    const pkt = ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: PROTO_UDP, options: rr, payload: udp({ sport: 1, dport: 2, payload: new Uint8Array(3) }) });
    const r = decode(pkt, LINKTYPE_RAW);
    expect(r.out.srcPort).toBe(1);
    expect(r.out.payloadLength).toBe(3);
    expect(r.stats.malformed.total()).toBe(0);
  });
  test('a zero-length IPv4 option is counted and does not hang', () => {
    const pkt = ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: PROTO_UDP, options: new Uint8Array([0x83, 0, 0, 0]), payload: udp({ sport: 1, dport: 2 }) });
    const r = decode(pkt, LINKTYPE_RAW);
    expect(r.stats.malformed.ipv4_bad_option).toBe(1);
    expect(r.out.dstPort).toBe(2);
  });
  test('first fragment has ports, later fragments do not', () => {
    const first = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_UDP, id: 99, moreFragments: true, payload: udp({ sport: 9, dport: 10, length: 3000, payload: new Uint8Array(1472) }) }), LINKTYPE_RAW);
    expect(first.out.fragment).toBe(FRAG_FIRST);
    expect(first.out.fragmentId).toBe(99);
    expect(first.out.hasTransport).toBe(true);
    expect(first.out.srcPort).toBe(9);
    const later = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_UDP, id: 99, fragmentOffset: 185, payload: new Uint8Array(1500) }), LINKTYPE_RAW);
    expect(later.ok).toBe(true);
    expect(later.out.fragment).toBe(FRAG_LATER);
    expect(later.out.hasTransport).toBe(false);
    expect(later.out.protocol).toBe(PROTO_UDP);
    expect(first.stats.traffic.fragments + later.stats.traffic.fragments).toBe(2);
    expect(first.stats.malformed.total() + later.stats.malformed.total()).toBe(0);
  });
  test('Ethernet padding does not leak into the payload', () => {
    const small = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_UDP, payload: udp({ sport: 1, dport: 53, payload: new Uint8Array(2) }) });
    const r = decode(concat(ethernet(0x0800, small), new Uint8Array(16)), LINKTYPE_ETHERNET);
    expect(r.out.payloadLength).toBe(2);
    expect(r.out.payloadCaptured).toBe(2);
  });
  test('lengths that lie are counted and clipped', () => {
    const long = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, totalLength: 4000, payload: tcp({ sport: 1, dport: 2, flags: TCP_ACK }) });
    const r = decode(long, LINKTYPE_RAW);
    expect(r.stats.malformed.ipv4_length_exceeds_frame).toBe(1);
    expect(r.out.dstPort).toBe(2);
    expect(r.out.payloadLength).toBe(0);
    const short = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, totalLength: 10, payload: new Uint8Array(20) }), LINKTYPE_RAW);
    expect(short.ok).toBe(false);
    expect(short.stats.malformed.ipv4_bad_total_length).toBe(1);
    const ihl = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, headerWords: 3, payload: new Uint8Array(20) }), LINKTYPE_RAW);
    expect(ihl.stats.malformed.ipv4_bad_header_length).toBe(1);
  });
  test('total length 0 (segmentation offload) trusts the frame', () => {
    const r = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, totalLength: 0, payload: tcp({ sport: 1, dport: 2, flags: TCP_ACK, payload: new Uint8Array(100) }) }), LINKTYPE_RAW);
    expect(r.out.payloadLength).toBe(100);
    expect(r.stats.malformed.total()).toBe(0);
  });
  test('snap length truncation is not malformed and keeps the declared payload length', () => {
    const full = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, payload: tcp({ sport: 1, dport: 2, flags: TCP_ACK | TCP_PSH, payload: new Uint8Array(1000) }) });
    const r = decode(full.subarray(0, 60), LINKTYPE_RAW, { wireLen: full.length });
    expect(r.stats.traffic.snap_truncated).toBe(1);
    expect(r.stats.malformed.total()).toBe(0);
    expect(r.out.payloadLength).toBe(1000);
    expect(r.out.payloadCaptured).toBe(20);
  });
});

describe('IPv6 extension headers', () => {
  const payload = tcp({ sport: 443, dport: 50000, flags: TCP_ACK | TCP_NS, payload: new Uint8Array(5) });
  test('hop-by-hop, routing, destination options, AH are skipped', () => {
    const pkt = ipv6({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      next: PROTO_TCP,
      payload,
      extensions: [
        { type: 0, body: new Uint8Array(6) },
        { type: 43, body: new Uint8Array(22) },
        { type: 51, body: new Uint8Array(10) },
        { type: 60, body: new Uint8Array(14) },
      ],
    });
    const r = decode(ethernet(0x86dd, pkt), LINKTYPE_ETHERNET);
    expect(r.out.protocol).toBe(PROTO_TCP);
    expect(r.out.srcPort).toBe(443);
    expect(r.out.tcpFlags).toBe(TCP_ACK | TCP_NS);
    expect(r.out.payloadLength).toBe(5);
    expect(r.stats.malformed.total()).toBe(0);
  });
  test('fragment header: first fragment decodes ports, later ones are counted', () => {
    const first = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_UDP, payload: udp({ sport: 1, dport: 2, length: 3000 }), extensions: [{ type: 44, body: new Uint8Array([0, 0, 0, 1, 0, 0, 0, 5]) }] });
    const r1 = decode(first, LINKTYPE_IPV6);
    expect(r1.out.fragment).toBe(FRAG_FIRST);
    expect(r1.out.fragmentId).toBe(5);
    expect(r1.out.dstPort).toBe(2);
    const later = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_UDP, payload: new Uint8Array(100), extensions: [{ type: 44, body: new Uint8Array([0, 0, 0x05, 0xa8, 0, 0, 0, 5]) }] });
    const r2 = decode(later, LINKTYPE_IPV6);
    expect(r2.out.fragment).toBe(FRAG_LATER);
    expect(r2.out.hasTransport).toBe(false);
    expect(r2.out.protocol).toBe(PROTO_UDP);
    const atomic = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_UDP, payload: udp({ sport: 1, dport: 2 }), extensions: [{ type: 44, body: new Uint8Array(8) }] });
    expect(decode(atomic, LINKTYPE_IPV6).out.fragment).toBe(FRAG_NONE);
  });
  test('an extension header that runs past the packet is malformed', () => {
    const pkt = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_TCP, payload: new Uint8Array(0), extensions: [{ type: 0, body: new Uint8Array(6) }] });
    pkt[41] = 200; // hop-by-hop claims 1608 bytes
    const r = decode(pkt, LINKTYPE_IPV6);
    expect(r.stats.malformed.ipv6_bad_extension).toBe(1);
    expect(r.out.hasTransport).toBe(false);
  });
  test('an endless chain of extension headers stops at 16', () => {
    const exts = Array.from({ length: 20 }, () => ({ type: 60, body: new Uint8Array(6) }));
    const r = decode(ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_TCP, payload: new Uint8Array(0), extensions: exts }), LINKTYPE_IPV6);
    expect(r.stats.malformed.ipv6_too_many_extensions).toBe(1);
  });
  test('payload length larger than the frame is counted and clipped', () => {
    const r = decode(ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_UDP, payload: udp({ sport: 1, dport: 2 }), payloadLength: 900 }), LINKTYPE_IPV6);
    expect(r.stats.malformed.ipv6_length_exceeds_frame).toBe(1);
    expect(r.out.dstPort).toBe(2);
  });
});

describe('transport', () => {
  test('TCP zero-length option is counted, the packet still counts for its flow', () => {
    const r = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, payload: tcp({ sport: 1, dport: 2, flags: TCP_SYN, options: new Uint8Array([2, 0, 0, 0]) }) }), LINKTYPE_RAW);
    expect(r.stats.malformed.tcp_bad_option).toBe(1);
    expect(r.out.hasTransport).toBe(true);
  });
  test('TCP option running past the header is counted', () => {
    const r = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, payload: tcp({ sport: 1, dport: 2, flags: TCP_SYN, options: new Uint8Array([1, 1, 8, 10]) }) }), LINKTYPE_RAW);
    expect(r.stats.malformed.tcp_bad_option).toBe(1);
  });
  test('TCP data offset below 5 or beyond the packet', () => {
    const low = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, payload: tcp({ sport: 1, dport: 2, flags: TCP_ACK, dataOffsetWords: 2 }) }), LINKTYPE_RAW);
    expect(low.stats.malformed.tcp_bad_header_length).toBe(1);
    const high = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_TCP, payload: tcp({ sport: 1, dport: 2, flags: TCP_ACK, dataOffsetWords: 15 }) }), LINKTYPE_RAW);
    expect(high.stats.malformed.tcp_bad_header_length).toBe(1);
  });
  test('UDP length that lies', () => {
    const r = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_UDP, payload: udp({ sport: 1, dport: 2, length: 500, payload: new Uint8Array(4) }) }), LINKTYPE_RAW);
    expect(r.stats.malformed.udp_bad_length).toBe(1);
    expect(r.out.payloadLength).toBe(4);
  });
  test('ICMP and ICMPv6 type/code', () => {
    const v4 = decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_ICMP, payload: icmp(8, 0) }), LINKTYPE_RAW);
    expect([v4.out.icmpType, v4.out.icmpCode, v4.stats.traffic.icmp]).toEqual([8, 0, 1]);
    const v6 = decode(ipv6({ src: 'fe80::1', dst: 'ff02::1', next: PROTO_ICMPV6, payload: icmp(135, 0, new Uint8Array(20)) }), LINKTYPE_IPV6);
    expect([v6.out.icmpType, v6.out.icmpCode, v6.stats.traffic.icmpv6]).toEqual([135, 0, 1]);
  });
});

describe('never throws', () => {
  const frames: [number, Uint8Array][] = [
    [LINKTYPE_ETHERNET, ethernet(0x0800, v4tcp, [{ tpid: 0x8100, id: 3 }])],
    [LINKTYPE_LINUX_SLL2, sll2(0x86dd, ipv6({ src: 'fd00::1', dst: 'fd00::2', next: PROTO_TCP, payload: tcpSyn, extensions: [{ type: 0, body: new Uint8Array(6) }, { type: 44, body: new Uint8Array([0, 0, 0, 1, 0, 0, 0, 1]) }] }))],
    [LINKTYPE_NULL, nullHeader(2, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: PROTO_UDP, options: new Uint8Array([1, 1, 1, 0]), payload: udp({ sport: 1, dport: 53, payload: new Uint8Array(30) }) }), true)],
  ];
  test('every truncation of valid frames', () => {
    for (const [linkType, frame] of frames) {
      for (let len = 0; len <= frame.length; len++) {
        const cut = frame.subarray(0, len);
        // both a frame that really is this short, and one cut by the snap length
        const a = decode(cut, linkType);
        const b = decode(cut, linkType, { wireLen: frame.length });
        if (len < frame.length && !a.out.hasTransport) expect(a.stats.malformed.total()).toBeGreaterThan(0);
        expect(b.stats.traffic.packets).toBe(1);
      }
    }
  });
  test('every single-byte value at every position', () => {
    for (const [linkType, frame] of frames) {
      const copy = new Uint8Array(frame);
      for (let i = 0; i < copy.length; i++) {
        const original = copy[i]!;
        for (const v of [0, 1, 0x0f, 0x45, 0x60, 0x80, 0xff]) {
          copy[i] = v;
          decode(copy, linkType);
        }
        copy[i] = original;
      }
    }
  });
});
