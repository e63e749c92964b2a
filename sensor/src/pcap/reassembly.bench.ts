/**
 * What fragment reassembly costs: DNS exchanges whose answers travel in three IPv4 fragments, through the whole
 * offline pipeline, against the same exchanges unfragmented (baseline), and against the fragments accounted one
 * by one without reassembly (the behaviour before it existed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from '../../../bench/harness.ts';
import { processCaptureFile } from './pipeline.ts';
import { fragmentedDnsCapture } from './testdata/build-fragments.ts';
import { type OutPacket, writePcap } from './testdata/write-capture.ts';

const EXCHANGES = 20_000;

let dir = '';
const files = { fragmented: '', whole: '' };

function build(fragmentSize: number): string {
  const packets: OutPacket[] = [];
  for (let i = 0; i < EXCHANGES; i++) {
    const c = fragmentedDnsCapture(4, { fragmentSize, clientPort: 1024 + (i % 60_000), ipId: i & 0xffff, startSec: 1_700_000_000 + Math.floor(i / 1000) });
    packets.push(...c.packets);
  }
  const file = join(dir, `dns-${fragmentSize}.pcap`);
  writeFileSync(file, writePcap(packets, { linkType: 1 }));
  return file;
}

function datagramsPerSecond(file: string, reassembly: boolean): number {
  const t0 = performance.now();
  let answers = 0;
  processCaptureFile(file, { reassembly: reassembly ? {} : false, onDns: (e) => (answers += e.message.response ? 1 : 0) });
  const seconds = (performance.now() - t0) / 1000;
  if (reassembly && answers !== EXCHANGES) throw new Error(`expected ${EXCHANGES} answers, got ${answers}`);
  return (2 * EXCHANGES) / seconds;
}

export const pcapReassembly: Benchmark = {
  name: 'pcap fragment reassembly',
  unit: 'datagrams/s',
  better: 'higher',
  rounds: 5,
  setup: () => {
    dir = mkdtempSync(join(tmpdir(), 'provmon-reasm-bench-'));
    files.fragmented = build(600);
    files.whole = build(65_528);
  },
  teardown: () => rmSync(dir, { recursive: true, force: true }),
  baseline: { label: 'unfragmented answers (1 frame each)', measure: () => datagramsPerSecond(files.whole, true) },
  cases: [
    { label: 'answers in 3 IPv4 fragments, reassembled and parsed', measure: () => datagramsPerSecond(files.fragmented, true) },
    { label: 'answers in 3 IPv4 fragments, reassembly off (fragments counted, DNS unparsed)', measure: () => datagramsPerSecond(files.fragmented, false) },
  ],
  note: `${EXCHANGES} DNS exchanges (query + 1.7 kB answer of 100 A records), distinct client ports; a datagram is one query or one answer`,
};
