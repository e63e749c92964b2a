/**
 * Name decoding on the ring-buffer hot path: the escape-aware decoder (records.ts `str`, see
 * kibana-plugin/common/escaped-names.ts) against the lossy UTF-8 slice it replaced, on the same bytes.
 */
import type { Benchmark } from '../../../bench/harness.ts';
import { decodeName } from './records.ts';

const NAMES = 20_000;
const LOOPS = 20;

function pack(names: Buffer[]): { buf: Buffer; spans: [number, number][] } {
  const buf = Buffer.concat(names);
  const spans: [number, number][] = [];
  let at = 0;
  for (const n of names) spans.push([at, (at += n.length)]);
  return { buf, spans };
}

// Typical paths (mostly ASCII, some accented), and the same with an invalid byte in each.
const valid = pack(Array.from({ length: NAMES }, (_, i) => Buffer.from(i % 10 === 0 ? `/home/user/données/fichier-${i}.txt` : `/usr/share/app/lib/module-${i}/index.js`)));
const hostile = pack(Array.from({ length: NAMES }, (_, i) => Buffer.concat([Buffer.from(`/tmp/dir-${i}/bad`), Buffer.from([0xff, 0xfe])])));

/** Mean ns per name over LOOPS passes; the decoded lengths are summed so no pass can be optimised away. */
function nsPerName(decode: (buf: Buffer, start: number, end: number) => string, data: { buf: Buffer; spans: [number, number][] }): number {
  const decodedChars = { total: 0 };
  const t0 = Bun.nanoseconds();
  for (let l = 0; l < LOOPS; l++) for (const [a, b] of data.spans) decodedChars.total += decode(data.buf, a, b).length;
  return decodedChars.total > 0 ? (Bun.nanoseconds() - t0) / (LOOPS * data.spans.length) : Number.NaN;
}

export const nameDecoding: Benchmark = {
  name: 'name decoding (non-UTF-8 names kept distinct)',
  unit: 'ns per name',
  better: 'lower',
  rounds: 9,
  baseline: { label: 'Buffer#utf8Slice, lossy (the decoding before)', measure: () => nsPerName((b, s, e) => (b as Buffer & { utf8Slice(s: number, e: number): string }).utf8Slice(s, e), valid) },
  cases: [
    { label: 'escape-aware decoder, valid names', measure: () => nsPerName(decodeName, valid) },
    { label: 'escape-aware decoder, names with invalid bytes', measure: () => nsPerName(decodeName, hostile) },
  ],
  note: `${NAMES} names of 30-45 bytes, ${LOOPS} passes per measurement; invalid names are escaped (\\xNN), valid ones pay two native scans`,
};
