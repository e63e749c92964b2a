/** `npm run bench`: runs every benchmark the project has and prints medians and ratios against same-run baselines. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzeEndToEnd, auditParse } from './analyze.bench.ts';
import { cliStartup, configLoad } from './cli-startup.bench.ts';
import { esBulkOutput } from '../sensor/src/output/elasticsearch/bulk.bench.ts';
import { pcapOffline } from '../sensor/src/pcap/decode.bench.ts';
import { nameDecoding } from '../sensor/src/ebpf/names.bench.ts';
import { pcapReassembly } from '../sensor/src/pcap/reassembly.bench.ts';
import { GRAPH_BENCHMARKS } from './graph.bench.ts';
import { flowsData1M, flowsRender } from './flows.bench.ts';
import { uiDraw1000, uiRoutes1M } from './ui.bench.ts';
import { liveCapture } from './live-capture.bench.ts';
import { offlineUpload } from './offline-upload.bench.ts';
import { localStoreWrite } from './local-store.bench.ts';
import { canRunKernelBenches, sensorPipeline, syscallStorm, syscallStormDistinct, syscallStormRead } from './sensor.bench.ts';
import { formatResult, runBenchmark, type Benchmark, type BenchResult } from './harness.ts';

/** Benchmarks that load BPF programs need root and a BTF kernel; without them they are listed as skipped. */
export const BENCHMARKS: Benchmark[] = [
  cliStartup,
  configLoad,
  localStoreWrite,
  pcapOffline,
  nameDecoding,
  pcapReassembly,
  esBulkOutput,
  ...(canRunKernelBenches() ? [sensorPipeline, syscallStorm, syscallStormRead, syscallStormDistinct, liveCapture] : []),
  ...GRAPH_BENCHMARKS,
  uiRoutes1M,
  uiDraw1000,
  auditParse,
  analyzeEndToEnd,
  offlineUpload,
  flowsData1M,
  flowsRender,
];

if (import.meta.main) {
  const only = process.argv[2];
  const selected = only ? BENCHMARKS.filter((b) => b.name.toLowerCase().includes(only.toLowerCase())) : BENCHMARKS;
  if (selected.length === 0) {
    process.stderr.write(`no benchmark matches "${only}"; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    process.exit(2);
  }
  const results: BenchResult[] = [];
  for (const bench of selected) {
    const result = await runBenchmark(bench);
    results.push(result);
    process.stdout.write(`${formatResult(result)}\n\n`);
  }
  const dir = resolve(import.meta.dir, '../.bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'latest.json'), `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
  process.stdout.write(`results written to ${resolve(dir, 'latest.json')}\n`);
}
