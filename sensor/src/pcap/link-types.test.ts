/**
 * Link types this kernel cannot produce live (BSD NULL/LOOP, raw IP, 802.1Q and QinQ VLAN tags:
 * the test VM has no 8021q module): the real loopback frames of lo.pcapng are re-wrapped in each
 * link layer and written as pcap; tshark then decodes the same file and judges flows and DNS.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaptureFile } from './capture-file.ts';
import type { FlowReport } from './flows.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NFLOG, LINKTYPE_NULL, LINKTYPE_RAW } from './link-types.ts';
import { type DnsEvent, processCaptureFile } from './pipeline.ts';
import { concat, ethernet, nflog, nullHeader, sll2 } from './testdata/build-packets.ts';
import { key, normaliseEvent, tsharkDns } from './testdata/compare-dns.ts';
import { expectFlowsMatchTshark, summarise } from './testdata/compare-flows.ts';
import { type OutPacket, writePcap } from './testdata/write-capture.ts';

const work = mkdtempSync(join(tmpdir(), 'provmon-linktypes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** IP packets of the real capture, with their times (Ethernet header and ethertype stripped). */
const ipPackets: { ip: Uint8Array; etype: number; tsSec: number; tsNsec: number }[] = [];
readCaptureFile(join(import.meta.dir, 'testdata', 'lo.pcapng'), (r) => {
  const frame = r.data.subarray(r.offset, r.offset + r.capLen);
  const etype = (frame[12]! << 8) | frame[13]!;
  if (etype === 0x0800 || etype === 0x86dd) ipPackets.push({ ip: frame.slice(14), etype, tsSec: r.tsSec, tsNsec: r.tsNsec });
});

function check(name: string, linkType: number, wrap: (ip: Uint8Array, etype: number) => Uint8Array | null, opts: { littleEndian?: boolean; minConversations?: number } = {}): void {
  test(`${name}: flows and DNS equal tshark's`, () => {
    const packets: OutPacket[] = [];
    for (const p of ipPackets) {
      const data = wrap(p.ip, p.etype);
      if (data) packets.push({ data, tsSec: p.tsSec, tsNsec: p.tsNsec });
    }
    const path = join(work, `${name.replace(/\W+/g, '-')}.pcap`);
    writeFileSync(path, writePcap(packets, { linkType, littleEndian: opts.littleEndian ?? true, nanos: true }));
    const flows: FlowReport[] = [];
    const dns: DnsEvent[] = [];
    const { pipeline } = processCaptureFile(path, { onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e), dnsQueryEvents: 'all' });
    expect(pipeline.snapshot().malformed_total).toBe(0);
    expect(pipeline.decodeStats.traffic.unsupported_link_type).toBe(0);
    expect(expectFlowsMatchTshark(path, summarise(flows))).toBeGreaterThanOrEqual(opts.minConversations ?? 15);
    expect(dns.map(normaliseEvent).map(key).sort()).toEqual(tsharkDns(path).map(key).sort());
  }, 60_000);
}

describe('re-wrapped real traffic', () => {
  check('BSD NULL, little-endian writer', LINKTYPE_NULL, (ip, et) => nullHeader(et === 0x0800 ? 2 : 24, ip, true));
  check('BSD NULL, big-endian writer (FreeBSD AF_INET6=28)', LINKTYPE_NULL, (ip, et) => nullHeader(et === 0x0800 ? 2 : 28, ip, false), { littleEndian: false });
  check('OpenBSD LOOP', LINKTYPE_LOOP, (ip, et) => nullHeader(et === 0x0800 ? 2 : 24, ip, false));
  check('raw IP', LINKTYPE_RAW, (ip) => ip);
  check('IPv4-only link type', LINKTYPE_IPV4, (ip, et) => (et === 0x0800 ? ip : null));
  check('IPv6-only link type', LINKTYPE_IPV6, (ip, et) => (et === 0x86dd ? ip : null), { minConversations: 3 });
  check('802.1Q VLAN 42', LINKTYPE_ETHERNET, (ip, et) => ethernet(et, ip, [{ tpid: 0x8100, id: 42 }]));
  check('QinQ 802.1ad 100 + 802.1Q 200', LINKTYPE_ETHERNET, (ip, et) =>
    ethernet(et, ip, [
      { tpid: 0x88a8, id: 100 },
      { tpid: 0x8100, id: 200 },
    ]),
  );
  check('Linux NFLOG (iptables -j NFLOG --nflog-prefix)', LINKTYPE_NFLOG, (ip, et) => nflog(et === 0x0800 ? 2 : 10, ip, 'provmon'));
  check('Linux SLL2 with a VLAN tag', LINKTYPE_LINUX_SLL2, (ip, et) => sll2(0x8100, concat(new Uint8Array([0, 7, et >> 8, et & 0xff]), ip)));

  test('the VLAN id travels with the flow', () => {
    const path = join(work, 'vlan-id.pcap');
    writeFileSync(path, writePcap(ipPackets.map((p) => ({ data: ethernet(p.etype, p.ip, [{ tpid: 0x8100, id: 0x2000 | 42 }]), tsSec: p.tsSec, tsNsec: p.tsNsec })), { linkType: LINKTYPE_ETHERNET }));
    const flows: FlowReport[] = [];
    processCaptureFile(path, { onFlow: (r) => flows.push(r) });
    expect(flows.length).toBeGreaterThan(10);
    expect(flows.every((f) => f.vlanId === 42)).toBe(true);
  });
});
