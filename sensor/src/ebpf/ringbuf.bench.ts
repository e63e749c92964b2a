/**
 * Measurement: libbpf's callback consumer (ring_buffer__consume + one JSCallback per record)
 * against the mmap consumer (MmapRing: JavaScript walks the mapped ring, no FFI per record).
 *
 * Method: two sensors are loaded side by side, so one workload (a burst of failing opens,
 * plus whatever else the host does) fills both rings with the same records. Programs are
 * then detached and each ring is drained by one consumer, timed: decoded (every record
 * becomes a typed object, what the sensor does) and raw (framing only, no decode).
 * Needs root. `bun sensor/src/ebpf/ringbuf.bench.ts` prints the result as JSON.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSensor, type BpfSensor } from './loader.ts';
import { LibbpfRing } from './ringbuf.ts';
import { buildHelper } from './testdata/harness.ts';

export interface ConsumerFigure {
  consumer: 'libbpf-callback' | 'mmap';
  mode: 'decoded' | 'raw';
  records: number;
  ms: number;
  eventsPerSec: number;
}

export interface RingBenchResult {
  name: 'ebpf-ring-consumer';
  recordsPerRound: number;
  rounds: number;
  /** best round per consumer and mode */
  figures: ConsumerFigure[];
  /** mmap decoded events/s ÷ libbpf decoded events/s */
  speedup: number;
  kept: 'mmap' | 'libbpf-callback';
}

export interface RingBenchOptions {
  /** failing opens per round (one record each); default 200 000 */
  records?: number;
  rounds?: number;
  log?: (line: string) => void;
}

function fill(helper: string, n: number): { a: BpfSensor; b: BpfSensor } {
  // failing-open records are ~160 bytes in the ring; leave headroom for the host's own activity
  const ringBytes = 2 ** Math.ceil(Math.log2(n * 160 * 1.5));
  const a = loadSensor({ ringBytes });
  const b = loadSensor({ ringBytes });
  const r = Bun.spawnSync([helper, 'burst', String(n)]);
  if (r.exitCode !== 0) throw new Error('burst workload failed');
  a.detach();
  b.detach();
  if (a.stats().dropped || b.stats().dropped) throw new Error('ring too small for the burst: records dropped');
  return { a, b };
}

interface Drainer {
  drain(fn: (r: { pid: number }) => void): number;
  drainRaw(fn: (dv: DataView, u8: Uint8Array, off: number, len: number) => void): number;
}

/** Drain everything; the sink keeps the JIT from discarding the work. Returns [records, ms]. */
function timedDrain(d: Drainer, decode: boolean): { records: number; ms: number } {
  let sink = 0;
  let n = 0;
  let k: number;
  const t0 = performance.now();
  do {
    k = decode ? d.drain((r) => (sink += r.pid)) : d.drainRaw((_dv, _u8, _off, len) => (sink += len));
    n += k;
  } while (k > 0);
  const ms = performance.now() - t0;
  if (sink === -1) console.log(sink);
  return { records: n, ms };
}

export async function benchRingConsumers(opts: RingBenchOptions = {}): Promise<RingBenchResult> {
  const records = opts.records ?? 200_000;
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'provmon-ringbench-'));
  const best = new Map<string, ConsumerFigure>();
  const keep = (f: ConsumerFigure) => {
    const k = `${f.consumer}/${f.mode}`;
    const prev = best.get(k);
    if (!prev || f.eventsPerSec > prev.eventsPerSec) best.set(k, f);
  };
  try {
    const helper = buildHelper(dir);
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['decoded', 'raw'] as const) {
        const { a, b } = fill(helper, records);
        const lib = new LibbpfRing(a.mapFd('events'));
        try {
          // alternate who goes first so cache warmth does not favour one side
          const order = round % 2 === 0 ? (['libbpf-callback', 'mmap'] as const) : (['mmap', 'libbpf-callback'] as const);
          for (const consumer of order) {
            const r = timedDrain(consumer === 'mmap' ? b.ring : lib, mode === 'decoded');
            const f: ConsumerFigure = { consumer, mode, records: r.records, ms: Math.round(r.ms * 10) / 10, eventsPerSec: Math.round(r.records / (r.ms / 1000)) };
            log(`round ${round + 1} ${consumer} ${mode}: ${f.records} records in ${f.ms} ms = ${f.eventsPerSec.toLocaleString('en')} events/s`);
            keep(f);
          }
        } finally {
          lib.close();
          a.close();
          b.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = [...best.values()];
  const get = (c: string) => figures.find((f) => f.consumer === c && f.mode === 'decoded')?.eventsPerSec ?? 0;
  const speedup = Math.round((get('mmap') / Math.max(1, get('libbpf-callback'))) * 100) / 100;
  return { name: 'ebpf-ring-consumer', recordsPerRound: records, rounds, figures, speedup, kept: speedup >= 1 ? 'mmap' : 'libbpf-callback' };
}

export default benchRingConsumers;

if (import.meta.main) {
  if (!existsSync('/sys/kernel/btf/vmlinux') || process.getuid?.() !== 0) {
    console.error('ringbuf.bench.ts needs root and a BTF kernel');
    process.exit(77);
  }
  const result = await benchRingConsumers({ log: (l) => console.error(l) });
  console.log(JSON.stringify(result, null, 2));
}
