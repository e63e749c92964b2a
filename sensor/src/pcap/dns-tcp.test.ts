import { expect, test } from 'bun:test';
import { DnsTcpFlowState, DnsTcpReassembler } from './dns-tcp.ts';
import { DnsStats, parseDns } from './dns.ts';
import { concat } from './testdata/build-packets.ts';
import { be16, message, question, record } from './testdata/build-dns.ts';

const m1 = message({ id: 1, questions: [question('a.test', 1)], answers: [record(new Uint8Array([0xc0, 12]), 1, 60, new Uint8Array([10, 0, 0, 1]))] });
const m2 = message({ id: 2, questions: [question('b.test', 28)] });
const stream = concat(be16(m1.length), m1, be16(m2.length), m2);

function run(segments: { seq: number; bytes: Uint8Array; syn?: boolean; captured?: number }[], budget?: number) {
  const r = new DnsTcpReassembler(budget);
  const st = new DnsTcpFlowState();
  const ids: number[] = [];
  for (const s of segments) {
    r.segment(st.toResponder, s.seq, !!s.syn, s.bytes, 0, s.bytes.length, s.captured ?? s.bytes.length, (buf, off, len) => {
      ids.push(parseDns(buf, off, len, new DnsStats())!.id);
    });
  }
  return { ids, stats: r.stats, held: r.heldBytes, r, st };
}

test('two messages in one segment, and split at every byte', () => {
  expect(run([{ seq: 100, bytes: stream }]).ids).toEqual([1, 2]);
  for (let cut = 1; cut < stream.length; cut++) {
    const out = run([
      { seq: 99, bytes: new Uint8Array(0), syn: true },
      { seq: 100, bytes: stream.subarray(0, cut) },
      { seq: 100 + cut, bytes: stream.subarray(cut) },
    ]);
    expect(out.ids).toEqual([1, 2]);
    expect(out.held).toBe(0);
  }
});

test('one byte per segment, with every segment retransmitted and overlapping', () => {
  const segs = [];
  for (let i = 0; i < stream.length; i++) {
    segs.push({ seq: 1000 + i, bytes: stream.subarray(i, i + 1) });
    segs.push({ seq: 1000 + Math.max(0, i - 3), bytes: stream.subarray(Math.max(0, i - 3), i + 1) });
  }
  expect(run(segs).ids).toEqual([1, 2]);
});

test('sequence numbers wrapping past 2^32', () => {
  const start = 0xffffffff - 5;
  expect(run([
    { seq: start, bytes: stream.subarray(0, 10) },
    { seq: (start + 10) >>> 0, bytes: stream.subarray(10) },
  ]).ids).toEqual([1, 2]);
});

test('a gap drops the partial message and resynchronises on the next segment', () => {
  const out = run([
    { seq: 0, bytes: stream.subarray(0, 5) },
    { seq: 20, bytes: concat(be16(m2.length), m2) },
  ]);
  expect(out.ids).toEqual([2]);
  expect(out.stats.gaps).toBe(1);
});

test('snap-length-cut payload is counted, not parsed', () => {
  const out = run([{ seq: 0, bytes: stream, captured: 10 }]);
  expect(out.ids).toEqual([]);
  expect(out.stats.snapped).toBe(1);
});

test('a length prefix promising 64 KiB is bounded by the global budget', () => {
  const out = run([{ seq: 0, bytes: concat(be16(65535), new Uint8Array(3000)) }, { seq: 3002, bytes: new Uint8Array(3000) }], 4096);
  expect(out.stats.over_budget).toBe(1);
  expect(out.held).toBeLessThanOrEqual(4096);
  out.r.release(out.st);
  expect(out.r.heldBytes).toBe(0);
});
