/**
 * Random mutation of the real captures (fixed seed, bounded iterations): packet bytes, lengths that
 * lie, truncation, file structure and DNS payloads. Nothing may throw out of the pipeline, and the
 * damage must show up in the malformed counters.
 */
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { readCaptureBytes, readCaptureFile } from './capture-file.ts';
import { DnsStats, parseDns } from './dns.ts';
import { PacketRecord } from './packet-record.ts';
import { PcapPipeline } from './pipeline.ts';

/** mulberry32: small, fast, deterministic */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Frame {
  data: Uint8Array;
  wireLen: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
}

const fixtures = ['lo.pcapng', 'multi-if.pcapng', 'any-sll.pcap'].map((n) => join(import.meta.dir, 'testdata', n));
const frames: Frame[] = [];
for (const f of fixtures) {
  readCaptureFile(f, (r) => frames.push({ data: r.data.slice(r.offset, r.offset + r.capLen), wireLen: r.wireLen, linkType: r.linkType, tsSec: r.tsSec, tsNsec: r.tsNsec }));
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x3f, 0xc0, 0x45, 0x60, 5, 15];

function mutate(frame: Frame, rand: () => number): { data: Uint8Array; wireLen: number } {
  const data = new Uint8Array(frame.data);
  let capLen = data.length;
  let wireLen = frame.wireLen;
  const pos = () => Math.floor(rand() * data.length);
  const rounds = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < rounds; i++) {
    const op = Math.floor(rand() * 6);
    if (op === 0) data[pos()]! ^= 1 << Math.floor(rand() * 8);
    else if (op === 1) data[pos()] = INTERESTING[Math.floor(rand() * INTERESTING.length)]!;
    else if (op === 2) {
      // a 16-bit length field that lies
      const p = pos();
      const v = [0, 0xffff, 1, 20, 40, 1500][Math.floor(rand() * 6)]!;
      data[p] = v >> 8;
      if (p + 1 < data.length) data[p + 1] = v & 0xff;
    } else if (op === 3) capLen = Math.floor(rand() * capLen);
    else if (op === 4) wireLen = Math.floor(rand() * wireLen * 2);
    else {
      // bytes of another region copied over: plausible-looking headers in the wrong place
      const from = pos();
      const to = pos();
      data.copyWithin(to, from, Math.min(data.length, from + 1 + Math.floor(rand() * 16)));
    }
  }
  return { data: data.subarray(0, capLen), wireLen: Math.max(wireLen, capLen) };
}

test('mutated packets through decode, flows and DNS: no throw, damage counted', () => {
  const rand = rng(0x5eed);
  const pipeline = new PcapPipeline({ flowTimeoutSec: 30, maxFlows: 5000, dnsQueryEvents: 'all', onFlow: () => {}, onDns: () => {} });
  const rec = new PacketRecord();
  let packets = 0;
  for (let round = 0; round < 150; round++) {
    for (const f of frames) {
      const m = rand() < 0.7 ? mutate(f, rand) : { data: f.data, wireLen: f.wireLen };
      rec.setBuffer(m.data);
      rec.offset = 0;
      rec.capLen = m.data.length;
      rec.wireLen = m.wireLen;
      rec.linkType = f.linkType;
      rec.tsSec = f.tsSec + round * 2;
      rec.tsNsec = f.tsNsec;
      pipeline.handle(rec);
      packets++;
    }
  }
  pipeline.finish();
  const s = pipeline.snapshot();
  expect(s.traffic.packets).toBe(packets);
  expect(packets).toBeGreaterThan(40_000);
  expect(s.malformed_total).toBeGreaterThan(1000);
  expect(s.dns.malformed_total + s.dns.dns_not_dns).toBeGreaterThan(10);
  // most reasons were reached, not just one
  expect(Object.keys(s.malformed).length).toBeGreaterThanOrEqual(10);
  expect(s.flows.active).toBe(0);
});

test('mutated capture files: only a damaged magic throws, and only a ProvmonError', () => {
  const rand = rng(42);
  const originals = fixtures.map((f) => new Uint8Array(readFileSync(f)));
  let damageCounted = 0;
  for (let i = 0; i < 300; i++) {
    const bytes = new Uint8Array(originals[i % originals.length]!);
    const hits = 1 + Math.floor(rand() * 6);
    for (let h = 0; h < hits; h++) {
      const p = Math.floor(rand() * bytes.length);
      bytes[p] = rand() < 0.5 ? Math.floor(rand() * 256) : INTERESTING[Math.floor(rand() * INTERESTING.length)]!;
    }
    const cut = rand() < 0.3 ? Math.floor(rand() * bytes.length) : bytes.length;
    const pipeline = new PcapPipeline();
    try {
      const r = readCaptureBytes(bytes.subarray(0, cut), pipeline.handle, { chunkSize: 4096 });
      pipeline.finish();
      const fileDamage = Object.values(r.malformed).reduce((a: number, b) => a + (b as number), 0);
      // a read that stopped early always says why, in a counter and in words
      if (r.error !== undefined) expect(fileDamage).toBeGreaterThan(0);
      if (fileDamage + pipeline.snapshot().malformed_total > 0) damageCounted++;
    } catch (e) {
      expect(e).toBeInstanceOf(ProvmonError);
      expect((e as Error).message).toMatch(/not a pcap or pcapng file/);
    }
  }
  // many hits land in payload bytes (the HTTP body, DNS names) where nothing is malformed
  expect(damageCounted).toBeGreaterThan(75);
});

test('mutated DNS payloads and random bytes: the parser never throws', () => {
  const rand = rng(7);
  const payloads: Uint8Array[] = [];
  for (const f of frames) {
    const d = f.data;
    // UDP DNS over IPv4 in Ethernet/SLL/SLL2: find "00 35" ports followed by a UDP length, cheaply
    for (let i = 0; i + 8 < d.length; i++) {
      if ((d[i] === 0 && d[i + 1] === 53) || (d[i + 2] === 0 && d[i + 3] === 53)) {
        const len = (d[i + 4]! << 8) | d[i + 5]!;
        if (len > 20 && i + len === d.length) payloads.push(d.slice(i + 8));
      }
    }
  }
  expect(payloads.length).toBeGreaterThan(20);
  const stats = new DnsStats();
  for (let i = 0; i < 20000; i++) {
    let m: Uint8Array;
    if (i % 10 === 0) m = Uint8Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
    else {
      m = new Uint8Array(payloads[i % payloads.length]!);
      for (let h = 0; h < 1 + Math.floor(rand() * 4); h++) {
        const p = 12 + Math.floor(rand() * Math.max(1, m.length - 12));
        if (p < m.length) m[p] = rand() < 0.3 ? 0xc0 | Math.floor(rand() * 64) : Math.floor(rand() * 256);
      }
    }
    parseDns(m, 0, m.length, stats);
  }
  expect(stats.malformed()).toBeGreaterThan(2000);
  expect(stats.bad_pointer).toBeGreaterThan(0);
  expect(stats.truncated).toBeGreaterThan(0);
});
