import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { type CaptureFileResult, readCaptureBytes, readCaptureFile, ticksToTime } from './capture-file.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './link-types.ts';
import type { PacketRecord } from './packet-record.ts';
import { tsharkFields } from './testdata/tshark.ts';
import { type OutPacket, writePcap, writePcapng } from './testdata/write-capture.ts';

const dir = join(import.meta.dir, 'testdata');
const LO = join(dir, 'lo.pcapng');
const MULTI = join(dir, 'multi-if.pcapng');
const ANY = join(dir, 'any-sll.pcap');
const work = mkdtempSync(join(tmpdir(), 'provmon-capfile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Seen {
  time: string;
  wireLen: number;
  capLen: number;
  iface: number;
  linkType: number;
  bytes: Uint8Array;
}

function collect(read: (cb: (r: PacketRecord) => void) => CaptureFileResult): { packets: Seen[]; result: CaptureFileResult } {
  const packets: Seen[] = [];
  const result = read((r) =>
    packets.push({
      time: `${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`,
      wireLen: r.wireLen,
      capLen: r.capLen,
      iface: r.interfaceId,
      linkType: r.linkType,
      bytes: r.data.slice(r.offset, r.offset + r.capLen),
    }),
  );
  return { packets, result };
}

/** What tshark says each frame is: epoch time (9 digits), lengths, interface. */
function tsharkFrames(file: string): { time: string; wireLen: number; capLen: number; iface: number }[] {
  return tsharkFields(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.interface_id']).map(([t, len, cap, iface]) => ({
    time: t!,
    wireLen: Number(len),
    capLen: Number(cap),
    iface: Number(iface || 0),
  }));
}

function toOut(packets: Seen[]): OutPacket[] {
  return packets.map((p) => {
    const [s, ns] = p.time.split('.');
    return { data: p.bytes, wireLen: p.wireLen, tsSec: Number(s), tsNsec: Number(ns), interfaceId: p.iface };
  });
}

describe('real captures agree with tshark frame by frame', () => {
  for (const file of [LO, MULTI, ANY]) {
    test(file.split('/').pop()!, () => {
      const { packets, result } = collect((cb) => readCaptureFile(file, cb));
      const expected = tsharkFrames(file);
      expect(result.error).toBeUndefined();
      expect(packets.length).toBe(expected.length);
      expect(packets.length).toBeGreaterThan(50);
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i]!;
        const p = packets[i]!;
        // tshark prints µs files with 9 digits too (trailing zeros)
        expect({ time: p.time, wireLen: p.wireLen, capLen: p.capLen, iface: p.iface }).toEqual(e);
      }
    });
  }

  test('multi-interface pcapng keeps each interface link type', () => {
    const { packets, result } = collect((cb) => readCaptureFile(MULTI, cb));
    expect(result.format).toBe('pcapng');
    expect(result.interfaces.map((i) => i.linkType)).toEqual([LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2]);
    expect(result.interfaces.map((i) => i.name)).toEqual(['lo', 'any']);
    expect(new Set(packets.filter((p) => p.iface === 1).map((p) => p.linkType))).toEqual(new Set([LINKTYPE_LINUX_SLL2]));
    expect(new Set(packets.filter((p) => p.iface === 0).map((p) => p.linkType))).toEqual(new Set([LINKTYPE_ETHERNET]));
  });

  test('classic pcap from `-i any` is LINUX_SLL', () => {
    const { result } = collect((cb) => readCaptureFile(ANY, cb));
    expect(result.format).toBe('pcap');
    expect(result.interfaces[0]!.linkType).toBe(LINKTYPE_LINUX_SLL);
  });

  test('tiny read buffers (records straddling every boundary) give identical packets', () => {
    const reference = collect((cb) => readCaptureFile(LO, cb)).packets;
    for (const chunkSize of [1, 61, 4096]) {
      const { packets } = collect((cb) => readCaptureFile(LO, cb, { chunkSize }));
      expect(packets.length).toBe(reference.length);
      for (let i = 0; i < packets.length; i++) {
        expect(packets[i]!.time).toBe(reference[i]!.time);
        expect(Buffer.compare(packets[i]!.bytes, reference[i]!.bytes)).toBe(0);
      }
    }
  });
});

describe('format variants, each checked against tshark', () => {
  const reference = collect((cb) => readCaptureFile(LO, cb)).packets;
  const out = toOut(reference);

  function checkAgainstTshark(name: string, bytes: Uint8Array, expectMicro: boolean): void {
    const path = join(work, name);
    writeFileSync(path, bytes);
    const { packets, result } = collect((cb) => readCaptureFile(path, cb));
    expect(result.error).toBeUndefined();
    const expected = tsharkFrames(path);
    expect(packets.length).toBe(expected.length);
    for (let i = 0; i < packets.length; i++) {
      expect(packets[i]!.time).toBe(expected[i]!.time);
      expect(packets[i]!.wireLen).toBe(expected[i]!.wireLen);
      expect(Buffer.compare(packets[i]!.bytes, reference[i]!.bytes)).toBe(0);
      if (expectMicro) expect(packets[i]!.time.endsWith('000')).toBe(true);
    }
  }

  test('pcap little-endian µs', () => checkAgainstTshark('le-us.pcap', writePcap(out, { linkType: 1, littleEndian: true }), true));
  test('pcap big-endian µs', () => checkAgainstTshark('be-us.pcap', writePcap(out, { linkType: 1, littleEndian: false }), true));
  test('pcap little-endian ns', () => checkAgainstTshark('le-ns.pcap', writePcap(out, { linkType: 1, littleEndian: true, nanos: true }), false));
  test('pcap big-endian ns', () => checkAgainstTshark('be-ns.pcap', writePcap(out, { linkType: 1, littleEndian: false, nanos: true }), false));
  test('pcapng big-endian, ns resolution', () => checkAgainstTshark('be-ns.pcapng', writePcapng([{ linkType: 1, tsresol: 9 }], out, { littleEndian: false }), false));
  test('pcapng binary resolution 2^-30', () => {
    const path = join(work, 'bin.pcapng');
    writeFileSync(path, writePcapng([{ linkType: 1, tsresol: 0x80 | 30 }], out));
    const { packets } = collect((cb) => readCaptureFile(path, cb));
    const expected = tsharkFrames(path);
    expect(packets.length).toBe(expected.length);
    // 2^-30 s ticks do not land on whole nanoseconds: agree with tshark to the nanosecond
    for (let i = 0; i < packets.length; i++) expect(Math.abs(Number(packets[i]!.time) - Number(expected[i]!.time))).toBeLessThan(2e-6);
  });
  test('pcapng simple packet blocks', () => {
    const path = join(work, 'spb.pcapng');
    writeFileSync(path, writePcapng([{ linkType: 1 }], out, { simple: true }));
    const { packets } = collect((cb) => readCaptureFile(path, cb));
    expect(packets.length).toBe(tsharkFrames(path).length);
    expect(Buffer.compare(packets[5]!.bytes, reference[5]!.bytes)).toBe(0);
  });
  test('editcap conversions (a writer nobody here wrote)', () => {
    for (const [format, micro] of [
      ['pcap', true],
      ['nsecpcap', false],
    ] as const) {
      const path = join(work, `editcap-${format}.pcap`);
      const r = Bun.spawnSync(['editcap', '-F', format, LO, path]);
      expect(r.exitCode).toBe(0);
      const { packets } = collect((cb) => readCaptureFile(path, cb));
      const expected = tsharkFrames(path);
      expect(packets.map((p) => p.time)).toEqual(expected.map((e) => e.time));
      if (micro) expect(packets.every((p) => p.time.endsWith('000'))).toBe(true);
    }
  });
  test('two sections with different byte orders', () => {
    const half = Math.floor(out.length / 2);
    const a = writePcapng([{ linkType: 1, tsresol: 9 }], out.slice(0, half), { littleEndian: true });
    const b = writePcapng([{ linkType: 1, tsresol: 9 }], out.slice(half), { littleEndian: false });
    const bytes = new Uint8Array(a.length + b.length);
    bytes.set(a);
    bytes.set(b, a.length);
    const { packets, result } = collect((cb) => readCaptureBytes(bytes, cb));
    expect(result.error).toBeUndefined();
    expect(packets.map((p) => p.time)).toEqual(reference.map((p) => p.time));
  });
});

describe('damage', () => {
  const lo = new Uint8Array(readFileSync(LO));
  const pcapBytes = writePcap(toOut(collect((cb) => readCaptureFile(LO, cb)).packets), { linkType: 1 });

  test('wrong magic is a clear error before anything is read', () => {
    const calls: number[] = [];
    expect(() => readCaptureBytes(new TextEncoder().encode('GET / HTTP/1.1\r\n'), () => calls.push(1), { label: 'x.pcap' })).toThrow(ProvmonError);
    expect(() => readCaptureBytes(new TextEncoder().encode('GET / HTTP/1.1\r\n'), () => calls.push(1), { label: 'x.pcap' })).toThrow(/x.pcap is not a pcap or pcapng file \(it starts with 47 45 54 20\)/);
    try {
      readCaptureBytes(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), () => {});
    } catch (e) {
      expect((e as ProvmonError).hint).toMatch(/gunzip/);
    }
    expect(() => readCaptureBytes(new Uint8Array(0), () => {})).toThrow(/empty/);
    expect(() => readCaptureFile('/nonexistent/file.pcap', () => {})).toThrow(/cannot open capture file/);
    expect(calls.length).toBe(0);
  });

  test('truncated at many points: every frame before the cut is delivered, as tshark reads it', () => {
    for (const [name, bytes] of [
      ['cut.pcapng', lo],
      ['cut.pcap', pcapBytes],
    ] as const) {
      for (const cut of [30, 100, 1000, 20001, Math.floor(bytes.length / 2) + 3, bytes.length - 5]) {
        const path = join(work, name);
        writeFileSync(path, bytes.subarray(0, cut));
        const { packets, result } = collect((cb) => readCaptureFile(path, cb));
        // when even the file header is cut, tshark falls back to showing the file as one MIME "frame" without a time
        expect(packets.length).toBe(tsharkFrames(path).filter((f) => f.time !== '').length);
        expect(result.malformed.truncated_record).toBe(1);
        expect(result.error).toMatch(/is truncated: it ends inside a/);
      }
    }
  }, 60_000);

  test('a pcap record length that lies stops the read with what came before delivered', () => {
    const bytes = new Uint8Array(pcapBytes);
    const v = new DataView(bytes.buffer);
    // walk to the 11th record and make its captured length absurd
    let p = 24;
    for (let i = 0; i < 10; i++) p += 16 + v.getUint32(p + 8, true);
    v.setUint32(p + 8, 0x7fffffff, true);
    const { packets, result } = collect((cb) => readCaptureBytes(bytes, cb));
    expect(packets.length).toBe(10);
    expect(result.malformed.bad_record_length).toBe(1);
    expect(result.error).toMatch(/packet 11 at byte \d+ claims 2147483647 captured bytes/);
  });

  test('pcapng: a lying block length stops; a lying packet length skips one block', () => {
    const out = toOut(collect((cb) => readCaptureFile(LO, cb)).packets).slice(0, 20);
    const ng = writePcapng([{ linkType: 1 }], out);
    const v = new DataView(ng.buffer);
    // find the EPBs
    const epbs: number[] = [];
    for (let p = 0; p < ng.length; p += v.getUint32(p + 4, true)) if (v.getUint32(p, true) === 6) epbs.push(p);
    const skip = new Uint8Array(ng);
    new DataView(skip.buffer).setUint32(epbs[3]! + 20, 100000, true); // captured length larger than the block
    const a = collect((cb) => readCaptureBytes(skip, cb));
    expect(a.packets.length).toBe(19);
    expect(a.result.malformed.bad_packet_length).toBe(1);
    expect(a.result.error).toBeUndefined();
    const stop = new Uint8Array(ng);
    new DataView(stop.buffer).setUint32(epbs[7]! + 4, 6, true); // block length below the minimum
    const b = collect((cb) => readCaptureBytes(stop, cb));
    expect(b.packets.length).toBe(7);
    expect(b.result.malformed.bad_block_length).toBe(1);
    const trailer = new Uint8Array(ng);
    const tv = new DataView(trailer.buffer);
    tv.setUint32(epbs[9]! + tv.getUint32(epbs[9]! + 4, true) - 4, 12345, true);
    const c = collect((cb) => readCaptureBytes(trailer, cb));
    expect(c.packets.length).toBe(9);
    expect(c.result.error).toMatch(/trailer that disagrees/);
  });

  test('a packet for an interface nobody declared is skipped and counted', () => {
    const out = toOut(collect((cb) => readCaptureFile(LO, cb)).packets).slice(0, 5);
    out[2]!.interfaceId = 0;
    const ng = writePcapng([{ linkType: 1 }], out);
    const v = new DataView(ng.buffer);
    let n = 0;
    for (let p = 0; p < ng.length; p += v.getUint32(p + 4, true)) if (v.getUint32(p, true) === 6 && n++ === 2) v.setUint32(p + 8, 9, true);
    const { packets, result } = collect((cb) => readCaptureBytes(ng, cb));
    expect(packets.length).toBe(4);
    expect(result.malformed.unknown_interface).toBe(1);
  });
});

test('64-bit tick conversion is exact above 2^53', () => {
  const rec = { tsSec: 0, tsNsec: 0 };
  const ticks = 1795518918970489111n; // ns since 1970
  ticksToTime(Number(ticks >> 32n), Number(ticks & 0xffffffffn), 1e9, rec);
  expect(rec).toEqual({ tsSec: 1795518918, tsNsec: 970489111 });
  ticksToTime(Number(1795518918970489n >> 32n), Number(1795518918970489n & 0xffffffffn), 1e6, rec);
  expect(rec).toEqual({ tsSec: 1795518918, tsNsec: 970489000 });
});
