/**
 * Offline forensics figures (issue 14):
 * - `auditParse`: records/s of provmon's audit reader (records → events → the sensor's ECS documents) against
 *   `ausearch -i` (Debian's auditd tools: parse, group and interpret into text) on the same file, same run.
 * - `analyzeEndToEnd`: `provmon analyze` of a large capture plus a large audit log into a local store, against the
 *   capture alone through the same pipeline and store (what `provmon run --pcap-file` does): the ratio is the cost
 *   of the audit log and the correlation. Connects in the log go to the capture's own server endpoints, so the
 *   correlator has real candidates to weigh.
 * Sizes: PROVMON_BENCH_AUDIT_RECORDS (default 200 000) for the parse bench; PROVMON_BENCH_ANALYZE_SIZE (default
 * 1 000 000: packets and records, the size) for the end-to-end one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCase } from '../sensor/src/analyze/analyze.ts';
import { AuditLogReader, fileChunks } from '../sensor/src/audit/reader.ts';
import { LocalSink } from '../sensor/src/output/local/local-sink.ts';
import { writeBenchCapture } from '../sensor/src/pcap/bench-capture.ts';
import { readCaptureFile } from '../sensor/src/pcap/capture-file.ts';
import { PcapPipeline } from '../sensor/src/pcap/pipeline.ts';
import { writeBenchAuditLog } from './audit-log.ts';
import type { Benchmark } from './harness.ts';

const PARSE_RECORDS = Number(process.env.PROVMON_BENCH_AUDIT_RECORDS ?? 200_000);
const ANALYZE_SIZE = Number(process.env.PROVMON_BENCH_ANALYZE_SIZE ?? 1_000_000);
const host = { id: 'b'.repeat(32), name: 'bench', bootTimeMs: 0 };

let work = '';
let parseLog = '';
let parseRecords = 0;

export const auditParse: Benchmark = {
  name: 'audit log parse',
  unit: 'records/s',
  better: 'higher',
  // five rounds: a round is about a second, and the machine is shared
  rounds: 5,
  note: `${PARSE_RECORDS} records (exec, openat, connect events with EXECVE/CWD/PATH/SOCKADDR/PROCTITLE/EOE); ausearch -i output goes to /dev/null, provmon's documents are counted and dropped; both warmed up first (ausearch by the harness, the reader on a tenth of the records)`,
  setup: async () => {
    work = mkdtempSync(join(tmpdir(), 'provmon-bench-audit-'));
    parseLog = join(work, 'audit.log');
    const destinations = [{ ip: '127.0.0.1', port: 80 }];
    parseRecords = writeBenchAuditLog(parseLog, PARSE_RECORDS, { startSec: 1_800_000_000, spanSec: 600, destinations });
    // The harness warms up the baseline only (disk cache); the reader's warm-up is its JIT, so it gets a smaller log
    const warmLog = join(work, 'warm-up.log');
    writeBenchAuditLog(warmLog, Math.ceil(PARSE_RECORDS / 10), { startSec: 1_700_000_000, spanSec: 60, destinations });
    await readAuditLog(warmLog);
  },
  teardown: () => rmSync(work, { recursive: true, force: true }),
  baseline: {
    label: 'ausearch -i (auditd 3, same file)',
    measure: () => {
      const start = Bun.nanoseconds();
      const r = Bun.spawnSync(['ausearch', '-if', parseLog, '-i'], { stdout: 'ignore', stderr: 'ignore' });
      if (r.exitCode !== 0) throw new Error(`ausearch exited ${r.exitCode}`);
      return parseRecords / ((Bun.nanoseconds() - start) / 1e9);
    },
  },
  cases: [
    {
      label: 'provmon audit reader → ECS documents',
      measure: async () => {
        const start = Bun.nanoseconds();
        if ((await readAuditLog(parseLog)) === 0) throw new Error('no documents');
        return parseRecords / ((Bun.nanoseconds() - start) / 1e9);
      },
    },
  ],
};

/** The documents the reader makes of a log (counted and dropped). */
async function readAuditLog(path: string): Promise<number> {
  let docs = 0;
  const reader = new AuditLogReader({ host, namespace: 'bench', onDocument: () => docs++ });
  await reader.read({ name: path, chunks: fileChunks(path) });
  reader.finish();
  return docs;
}

let pcap = '';
let auditLog = '';

/**
 * The bench capture of `size` packets and an audit log of `size` records over the same time span, whose connects go
 * to the capture's own server endpoints (so the correlator has real candidates). Shared with the upload bench.
 */
export function writeAnalyzeInputs(dir: string, size: number): { pcap: string; auditLog: string } {
  const capture = join(dir, 'bench.pcap');
  writeBenchCapture(capture, size);
  let first = 0;
  let last = 0;
  const destinations = new Map<string, { ip: string; port: number }>();
  const pipeline = new PcapPipeline({
    onFlow: (r) => {
      if (destinations.size < 64 && r.dstPort !== undefined) destinations.set(`${r.dstIp}:${r.dstPort}`, { ip: r.dstIp, port: r.dstPort });
    },
  });
  readCaptureFile(capture, (rec) => {
    const t = rec.tsSec + rec.tsNsec / 1e9;
    if (first === 0) first = t;
    last = t;
    pipeline.handle(rec);
  });
  pipeline.finish();
  const log = join(dir, 'audit.log');
  writeBenchAuditLog(log, size, { startSec: first, spanSec: Math.max(1, last - first), destinations: [...destinations.values()] });
  return { pcap: capture, auditLog: log };
}

function caseDir(): string {
  return mkdtempSync(join(work, 'case-'));
}

export const analyzeEndToEnd: Benchmark = {
  name: 'analyze end to end',
  unit: 's',
  better: 'lower',
  // one round: at the size a round takes minutes (the warm-up run of the baseline comes on top)
  rounds: 1,
  note: `${ANALYZE_SIZE} packets (the bench capture: replayed real loopback traffic, many concurrent flows) and ${ANALYZE_SIZE} audit records into a fresh local store each time`,
  setup: () => {
    work = mkdtempSync(join(tmpdir(), 'provmon-bench-analyze-'));
    ({ pcap, auditLog } = writeAnalyzeInputs(work, ANALYZE_SIZE));
  },
  teardown: () => rmSync(work, { recursive: true, force: true }),
  baseline: {
    label: 'capture only, same pipeline and store',
    measure: async () => {
      const dir = caseDir();
      const start = Bun.nanoseconds();
      const sink = new LocalSink({ dir });
      await analyzeCase({ pcap: { path: pcap }, audit: [], sink, namespace: 'bench', toleranceMs: 2000 });
      await sink.close();
      const s = (Bun.nanoseconds() - start) / 1e9;
      rmSync(dir, { recursive: true, force: true });
      return s;
    },
  },
  cases: [
    {
      label: 'provmon analyze: capture + audit log + correlation',
      measure: async () => {
        const dir = caseDir();
        const start = Bun.nanoseconds();
        const sink = new LocalSink({ dir });
        const summary = await analyzeCase({ pcap: { path: pcap }, audit: [{ path: auditLog }], sink, namespace: 'bench', toleranceMs: 2000 });
        await sink.close();
        const s = (Bun.nanoseconds() - start) / 1e9;
        if (summary.correlation.flows === 0) throw new Error('no flows');
        process.stderr.write(`  analyze: ${s.toFixed(1)} s, ${summary.pcap?.packets} packets, ${summary.audit?.stats.records} records, ${summary.correlation.attributed}/${summary.correlation.flows} flows attributed, peak RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`);
        rmSync(dir, { recursive: true, force: true });
        return s;
      },
    },
  ],
};
