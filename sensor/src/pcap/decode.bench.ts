/**
 * Offline packets/s of the provmon packet pipeline (read + decode + flow table + DNS + passive DNS)
 * against tshark on the same capture. Two entry points:
 * - `pcapOffline`: a Benchmark for bench/run.ts (baseline `tshark -q -z conv,tcp`, interleaved rounds);
 * - `benchPcapOffline()`: one-shot figures and ratios, for scripts and reports.
 * The capture is built by bench-capture.ts from the committed real loopback traffic (no root needed).
 *
 * Rates are packets in the file / wall time. tshark's time includes its start-up (dissector
 * registration, about a fifth of a second here), reported separately so the ratio can be read
 * both ways; provmon runs in-process, warm, as the sensor does. On a shared machine wall time
 * swings with the neighbours, so the figures also give packets per CPU-second (user + system, GC
 * threads included for provmon), which contention disturbs far less.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from '../../../bench/harness.ts';
import { writeBenchCapture } from './bench-capture.ts';
import { readCaptureFile } from './capture-file.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket } from './decode.ts';
import { PcapPipeline } from './pipeline.ts';

const DEFAULT_PACKETS = Number(process.env.PROVMON_BENCH_PCAP_PACKETS ?? 500_000);

interface Prepared {
  dir: string;
  /** many short flows: every copy from its own client */
  file: string;
  /** the same packets folded into a few long flows */
  longFlows: string;
  empty: string;
  packets: number;
}

let prepared: Prepared | undefined;

function prepare(packets = DEFAULT_PACKETS): Prepared {
  if (prepared && prepared.packets >= packets) return prepared;
  const dir = mkdtempSync(join(tmpdir(), 'provmon-bench-pcap-'));
  const file = join(dir, 'bench.pcap');
  const n = writeBenchCapture(file, packets);
  const longFlows = join(dir, 'long-flows.pcap');
  writeBenchCapture(longFlows, packets, 0.002, false);
  const empty = join(dir, 'one.pcap');
  writeBenchCapture(empty, 1);
  prepared = { dir, file, longFlows, empty, packets: n };
  return prepared;
}

function cleanup(): void {
  if (prepared) rmSync(prepared.dir, { recursive: true, force: true });
  prepared = undefined;
}

/** Wall and CPU seconds of a child process. */
function runTimed(argv: string[]): { wall: number; cpu: number } {
  const start = Bun.nanoseconds();
  const r = Bun.spawnSync(argv, { stdout: 'ignore', stderr: 'pipe' });
  const wall = (Bun.nanoseconds() - start) / 1e9;
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.toString()}`);
  const cpu = Number(r.resourceUsage.cpuTime.user + r.resourceUsage.cpuTime.system) / 1e6;
  return { wall, cpu };
}

function wallSec(argv: string[]): number {
  return runTimed(argv).wall;
}

/** The whole provmon pipeline over the file, in-process: packets per wall second and per CPU second. */
export function provmonPipelinePps(file: string): { pps: number; cpuPps: number; flows: number; dns: number; malformed: number } {
  let flows = 0;
  let dns = 0;
  const cpu0 = process.cpuUsage();
  const start = Bun.nanoseconds();
  const pipeline = new PcapPipeline({ onFlow: () => flows++, onDns: () => dns++ });
  const result = readCaptureFile(file, pipeline.handle);
  pipeline.finish();
  const sec = (Bun.nanoseconds() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { pps: result.packets / sec, cpuPps: result.packets / ((cpu.user + cpu.system) / 1e6), flows, dns, malformed: pipeline.snapshot().malformed_total };
}

/** Read + decode only (no flows, no DNS): the ceiling the rest of the pipeline eats into. */
export function provmonDecodePps(file: string): number {
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  const start = Bun.nanoseconds();
  const result = readCaptureFile(file, (r) => {
    decodePacket(r, out, stats);
  });
  return result.packets / ((Bun.nanoseconds() - start) / 1e9);
}

export function tsharkConvPps(file: string, packets: number): number {
  return packets / wallSec(['tshark', '-r', file, '-q', '-z', 'conv,tcp']);
}

export function tsharkPlainPps(file: string, packets: number): number {
  return packets / wallSec(['sh', '-c', `tshark -r '${file}' > /dev/null`]);
}

export interface PcapBenchFigures {
  packets: number;
  fileBytes: number;
  flows: number;
  dnsMessages: number;
  provmonPipelinePps: number;
  provmonDecodeOnlyPps: number;
  tsharkConvTcpPps: number;
  tsharkPlainPps: number;
  /** seconds tshark needs for a one-packet file: its fixed start-up cost */
  tsharkStartupSec: number;
  /** tshark conv,tcp rate with its start-up subtracted */
  tsharkConvTcpSteadyPps: number;
  /** packets per CPU-second (user + system) */
  provmonPipelineCpuPps: number;
  tsharkConvTcpCpuPps: number;
  /** the same packets as a few long flows: per-packet cost without the per-flow one */
  longFlows: { flows: number; provmonPipelinePps: number; tsharkConvTcpPps: number; ratio: number };
  /** provmon pipeline / tshark conv,tcp, wall clock (target >= 5) */
  ratioVsTsharkConv: number;
  /** the same ratio per CPU-second: steadier on a busy machine */
  ratioVsTsharkConvCpu: number;
  ratioVsTsharkConvSteady: number;
  ratioVsTsharkPlain: number;
}

/** Median-of-`rounds` figures for one capture of about `packets` packets. */
export function benchPcapOffline(o: { packets?: number; rounds?: number } = {}): PcapBenchFigures {
  const p = prepare(o.packets);
  const rounds = o.rounds ?? 3;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  provmonPipelinePps(p.file); // warm-up: JIT and page cache
  const pipe: number[] = [];
  const pipeCpu: number[] = [];
  const decode: number[] = [];
  const conv: number[] = [];
  const convCpu: number[] = [];
  const plain: number[] = [];
  const startup: number[] = [];
  const longPipe: number[] = [];
  const longConv: number[] = [];
  let longFlowCount = 0;
  let last = { flows: 0, dns: 0 };
  for (let i = 0; i < rounds; i++) {
    const r = provmonPipelinePps(p.file);
    last = { flows: r.flows, dns: r.dns };
    pipe.push(r.pps);
    pipeCpu.push(r.cpuPps);
    decode.push(provmonDecodePps(p.file));
    const t = runTimed(['tshark', '-r', p.file, '-q', '-z', 'conv,tcp']);
    conv.push(p.packets / t.wall);
    convCpu.push(p.packets / t.cpu);
    plain.push(tsharkPlainPps(p.file, p.packets));
    startup.push(wallSec(['tshark', '-r', p.empty, '-q', '-z', 'conv,tcp']));
    const lr = provmonPipelinePps(p.longFlows);
    longFlowCount = lr.flows;
    longPipe.push(lr.pps);
    longConv.push(tsharkConvPps(p.longFlows, p.packets));
  }
  const convPps = med(conv);
  const startupSec = med(startup);
  const steady = p.packets / Math.max(1e-9, p.packets / convPps - startupSec);
  const pipePps = med(pipe);
  return {
    packets: p.packets,
    fileBytes: Bun.file(p.file).size,
    flows: last.flows,
    dnsMessages: last.dns,
    provmonPipelinePps: pipePps,
    provmonDecodeOnlyPps: med(decode),
    tsharkConvTcpPps: convPps,
    tsharkPlainPps: med(plain),
    tsharkStartupSec: startupSec,
    tsharkConvTcpSteadyPps: steady,
    longFlows: { flows: longFlowCount, provmonPipelinePps: med(longPipe), tsharkConvTcpPps: med(longConv), ratio: med(longPipe) / med(longConv) },
    provmonPipelineCpuPps: med(pipeCpu),
    tsharkConvTcpCpuPps: med(convCpu),
    ratioVsTsharkConv: pipePps / convPps,
    ratioVsTsharkConvCpu: med(pipeCpu) / med(convCpu),
    ratioVsTsharkConvSteady: pipePps / steady,
    ratioVsTsharkPlain: pipePps / med(plain),
  };
}

/** For bench/run.ts: add `pcapOffline` to BENCHMARKS. */
export const pcapOffline: Benchmark = {
  name: 'pcap offline pipeline',
  unit: 'packets/s',
  better: 'higher',
  rounds: 5,
  setup: () => {
    prepare();
  },
  teardown: cleanup,
  baseline: { label: 'tshark -r FILE -q -z conv,tcp', measure: () => tsharkConvPps(prepare().file, prepare().packets) },
  cases: [
    { label: 'tshark -r FILE > /dev/null', measure: () => tsharkPlainPps(prepare().file, prepare().packets) },
    { label: 'provmon read+decode+flows+DNS', measure: () => provmonPipelinePps(prepare().file).pps },
    { label: 'provmon read+decode only', measure: () => provmonDecodePps(prepare().file) },
    { label: 'provmon pipeline, same packets as few long flows', measure: () => provmonPipelinePps(prepare().longFlows).pps },
    { label: 'tshark conv,tcp, same packets as few long flows', measure: () => tsharkConvPps(prepare().longFlows, prepare().packets) },
  ],
  note: 'capture: real loopback DNS/HTTP/ICMP traffic (testdata/lo.pcapng) replayed as overlapping copies from distinct clients, 512-byte snap length; tshark figures include its start-up (~0.2 s)',
};

if (import.meta.main) {
  const figures = benchPcapOffline({ packets: Number(process.argv[2] ?? DEFAULT_PACKETS) });
  cleanup();
  console.log(JSON.stringify(figures, null, 2));
}
