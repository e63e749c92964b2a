/**
 * IP fragment reassembly against tshark: a DNS answer that travelled in fragments (IPv4 and IPv6, in order and
 * out of order) yields its DNS document and one flow; the bounds, timeout and overlap policy, counted.
 * Captures are built here (testdata/build-fragments.ts) and written to a temporary file tshark reads too.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket } from './decode.ts';
import { dnsDocument, flowDocument } from './ecs.ts';
import type { FlowReport } from './flows.ts';
import { PacketRecord } from './packet-record.ts';
import { type DnsEvent, processCaptureFile } from './pipeline.ts';
import { IpReassembler } from './reassembly.ts';
import { fragmentedDnsCapture } from './testdata/build-fragments.ts';
import { key, normaliseEvent, tsharkDns } from './testdata/compare-dns.ts';
import { summarise } from './testdata/compare-flows.ts';
import { tsharkFields } from './testdata/tshark.ts';
import { type OutPacket, writePcap } from './testdata/write-capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'provmon-frag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const host = { name: 'h', id: 'h' };

function capture(name: string, packets: OutPacket[]): string {
  const file = join(dir, name);
  writeFileSync(file, writePcap(packets, { linkType: 1 }));
  return file;
}

function run(file: string, options: Parameters<typeof processCaptureFile>[1] = {}) {
  const flows: FlowReport[] = [];
  const dns: DnsEvent[] = [];
  const { pipeline } = processCaptureFile(file, { ...options, onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e) });
  return { flows, dns, pipeline };
}

/** Frames and bytes per direction between two addresses, every frame (fragments included), as tshark reads them. */
function tsharkWireTotals(file: string, a: string, b: string): { ab: [number, number]; ba: [number, number] } {
  const totals = { ab: [0, 0] as [number, number], ba: [0, 0] as [number, number] };
  for (const [s4, s6, len] of tsharkFields(file, ['ip.src', 'ipv6.src', 'frame.len'])) {
    const src = s4 || s6;
    const t = src === a ? totals.ab : src === b ? totals.ba : undefined;
    if (!t) continue;
    t[0]++;
    t[1] += Number(len);
  }
  return totals;
}

describe('fragmented DNS answers agree with tshark', () => {
  for (const version of [4, 6] as const) {
    for (const [label, order] of [['in order', undefined], ['out of order', [2, 0, 1]], ['last first', [2, 1, 0]]] as const) {
      test(`IPv${version}, fragments ${label}: the DNS answer and one flow`, () => {
        const built = fragmentedDnsCapture(version, order ? { order: [...order] } : {});
        const file = capture(`v${version}-${label.replace(/ /g, '-')}.pcap`, built.packets);
        const { flows, dns, pipeline } = run(file);
        // DNS: the same messages tshark decodes (the query and the reassembled answer), every address in it
        expect(dns.map(normaliseEvent).map(key).sort()).toEqual(tsharkDns(file).filter((m) => m.response).map(key).sort());
        const answer = dns.find((e) => e.message.response)!;
        expect(answer.message.answers.map((a) => a.data)).toEqual(built.addresses);
        const doc = dnsDocument(answer, { host });
        expect(doc.dns?.resolved_ip).toEqual(built.addresses);
        expect(doc.dns?.question?.name).toBe(built.name);
        // one flow, counting every frame on the wire, with tshark's Community ID
        const summary = summarise(flows);
        expect(summary).toHaveLength(1);
        const [client, server] = version === 4 ? ['10.0.0.2', '10.0.0.53'] : ['2001:db8::2', '2001:db8::53'];
        const wire = tsharkWireTotals(file, client, server);
        const f = summary[0]!;
        expect(f.src).toBe(`${client}:40000`);
        expect([f.srcPackets, f.srcBytes]).toEqual(wire.ab);
        expect([f.dstPackets, f.dstBytes]).toEqual(wire.ba);
        const [cid] = tsharkFields(file, ['communityid'], 'dns.flags.response == 1', ['--enable-protocol', 'communityid'])[0]!;
        expect(f.communityId).toBe(cid!);
        expect(flowDocument(flows.at(-1)!, { host }).network?.community_id).toBe(cid!);
        expect(pipeline.snapshot().reassembly).toMatchObject({ reassembled: 1, fragments_reassembled: 3, pending: 0, held_bytes: 0 });
        expect(pipeline.counters.dns_unparsed).toBe(0);
      });
    }
  }

  test('without reassembly the answer is counted as unparsed and no DNS document comes out', () => {
    const file = capture('v4-noreasm.pcap', fragmentedDnsCapture(4).packets);
    const { dns, pipeline } = run(file, { reassembly: false });
    expect(dns.filter((e) => e.message.response)).toHaveLength(0);
    expect(pipeline.counters.dns_unparsed).toBe(1);
  });
});

/** The fragments of one datagram as decoded packets the reassembler takes (copies made, the record is reused). */
function fragments(version: 4 | 6, order?: number[]): DecodedPacket[] {
  const built = fragmentedDnsCapture(version, order ? { order } : {});
  return built.packets.slice(1).map((pk) => {
    const rec = new PacketRecord();
    rec.setBuffer(pk.data);
    rec.capLen = rec.wireLen = pk.data.length;
    rec.tsSec = pk.tsSec;
    rec.tsNsec = pk.tsNsec;
    rec.linkType = 1;
    const p = new DecodedPacket();
    expect(decodePacket(rec, p, new DecodeStats())).toBe(true);
    return p;
  });
}

describe('reassembly bounds and policy', () => {
  test('an exact duplicate is ignored; the datagram still completes', () => {
    const r = new IpReassembler();
    const [a, b, c] = fragments(4);
    expect(r.add(a!)).toBeNull();
    expect(r.add(a!)).toBeNull();
    expect(r.add(b!)).toBeNull();
    const whole = r.add(c!);
    expect(whole?.frames).toBe(4);
    expect(r.stats).toMatchObject({ duplicates: 1, reassembled: 1 });
  });

  test('an overlapping fragment with other bytes discards the whole datagram, later fragments included', () => {
    for (const version of [4, 6] as const) {
      const given: number[] = [];
      const r = new IpReassembler({}, (first) => given.push(first.frames));
      const [a, b, c] = fragments(version);
      r.add(a!);
      const forged = fragments(version)[1]!;
      forged.fragmentOffset -= 8; // overlaps the first fragment's tail with different bytes
      expect(r.add(forged)).toBeNull();
      expect(r.add(b!)).toBeNull();
      expect(r.add(c!)).toBeNull();
      expect(r.stats.overlap_discarded).toBe(1);
      expect(r.stats.reassembled).toBe(0);
      r.expire(Infinity);
      // the frames still reach the flow, through the first fragment
      expect(given).toEqual([4]);
    }
  });

  test('a datagram not complete within the timeout is given up, its frames handed back with the first fragment', () => {
    const given: number[] = [];
    const r = new IpReassembler({ timeoutSec: 5 }, (first) => given.push(first.frames));
    const [a, b] = fragments(4);
    r.add(a!);
    r.add(b!);
    expect(r.held).toBeGreaterThan(0);
    r.expire(a!.tsSec + 10);
    expect(r.stats.timed_out).toBe(1);
    expect(r.held).toBe(0);
    expect(given).toEqual([2]);
  });

  test('the byte and datagram bounds evict the oldest datagram and count it', () => {
    const r = new IpReassembler({ maxDatagrams: 1 });
    const v4 = fragments(4);
    const v6 = fragments(6);
    r.add(v4[0]!);
    r.add(v6[0]!);
    expect(r.size).toBe(1);
    expect(r.stats.evicted).toBe(1);
    const small = new IpReassembler({ maxBytes: 700 });
    small.add(v4[0]!);
    small.add(v4[1]!);
    expect(small.stats.evicted).toBe(1);
    expect(small.held).toBeLessThanOrEqual(700);
  });

  test('a fragment cut by the snap length makes its datagram unusable, counted', () => {
    const r = new IpReassembler();
    const [a] = fragments(4);
    a!.fragmentDataEnd -= 10;
    expect(r.add(a!)).toBeNull();
    expect(r.stats.unusable).toBe(1);
  });
});
