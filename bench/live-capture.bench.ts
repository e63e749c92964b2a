/**
 * Live packet capture on loopback (needs root): packets per second provmon's libpcap path decodes and puts into
 * flows while a UDP flood runs, against the flood's own send rate, with the capture's drops reported.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PcapHandle } from '../sensor/src/pcap/libpcap.ts';
import { PcapPipeline } from '../sensor/src/pcap/pipeline.ts';
import type { Benchmark } from './harness.ts';

const ROOT = resolve(import.meta.dir, '..');
const PACKETS = 1_000_000;
const PAYLOAD = 64;
let flood = '';
let lastDrops = 0;

function buildFlood(): string {
  const out = resolve(ROOT, '.cache/bench/udpflood');
  mkdirSync(resolve(ROOT, '.cache/bench'), { recursive: true });
  const build = Bun.spawnSync(['clang', '-O2', '-o', out, resolve(ROOT, 'bench/workloads/udpflood.c')]);
  if (build.exitCode !== 0) throw new Error(`cannot build the flood workload: ${build.stderr.toString()}`);
  return out;
}

function freeUdpPort(): number {
  // Ephemeral ports above 40000 are rarely in use; the flood binds it and fails loudly if it is taken.
  return 40000 + Math.floor(Math.random() * 20000);
}

async function floodAlone(): Promise<number> {
  const child = Bun.spawn([flood, String(freeUdpPort()), String(PACKETS), String(PAYLOAD)], { stdout: 'pipe' });
  if ((await child.exited) !== 0) throw new Error('flood failed');
  const ns = Number((await new Response(child.stdout).text()).trim());
  return PACKETS / (ns / 1e9);
}

async function captured(): Promise<number> {
  const port = freeUdpPort();
  const pipeline = new PcapPipeline({ flowTimeoutSec: 60 });
  const handle = PcapHandle.openLive({ interface: 'lo', filter: `udp and dst port ${port}`, bufferSize: 256 * 1024 * 1024 });
  let seen = 0;
  const onPacket = (rec: Parameters<typeof pipeline.handle>[0]) => {
    seen++;
    pipeline.handle(rec);
  };
  try {
    const child = Bun.spawn([flood, String(port), String(PACKETS), String(PAYLOAD)], { stdout: 'pipe' });
    const start = performance.now();
    let lastProgress = start;
    let last = 0;
    let done = false;
    void child.exited.then(() => (done = true));
    // A tight loop: the flood runs in its own process; this one only captures.
    while (seen < PACKETS) {
      const n = handle.dispatch(4096, onPacket);
      const now = performance.now();
      if (n > 0) {
        last = now;
        lastProgress = now;
      } else {
        if (done && now - lastProgress > 500) break; // the rest was dropped
        await Bun.sleep(1);
      }
    }
    const stats = handle.stats();
    lastDrops = stats.dropped + stats.interfaceDropped;
    pipeline.finish('end_of_capture');
    return seen / ((last - start) / 1000);
  } finally {
    handle.close();
  }
}

export const liveCapture: Benchmark = {
  name: 'live loopback capture',
  unit: 'packets/s',
  better: 'higher',
  rounds: 5,
  get note() {
    return `${PACKETS.toLocaleString('en')} UDP datagrams of ${PAYLOAD} bytes per round; libpcap drops in the last round: ${lastDrops}; target ≥ 300K pps with zero drops`;
  },
  setup: () => {
    flood = buildFlood();
  },
  baseline: { label: 'flood send rate (no capture)', measure: floodAlone },
  cases: [{ label: 'provmon live capture (libpcap → decode → flows)', measure: captured }],
};
