/**
 * The Offline analysis page's path against `analyzeCase()` called directly on the same files: upload over HTTP
 * (multipart, streamed and spooled to disk by `provmon ui`'s server), the analysis in its worker thread with the
 * documents relayed to the host thread, into a new local store per case, until the job reports done. The ratio
 * is what the upload, the spool and the worker relay cost. PROVMON_BENCH_UPLOAD_SIZE (default 300 000) packets
 * and as many audit records.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySource } from '../kibana-plugin/common/graph/source.ts';
import type { CaseStatus } from '../kibana-plugin/server/offline/jobs.ts';
import { KIBANA_TARGETS } from '../kibana-plugin/versions.ts';
import { analyzeCase } from '../sensor/src/analyze/analyze.ts';
import { LocalSink } from '../sensor/src/output/local/local-sink.ts';
import { openUiCases, type UiCases } from '../sensor/src/ui/cases.ts';
import { startUiServer, type RunningUi } from '../sensor/src/ui/server.ts';
import { writeAnalyzeInputs } from './analyze.bench.ts';
import type { Benchmark } from './harness.ts';

const SIZE = Number(process.env.PROVMON_BENCH_UPLOAD_SIZE ?? 300_000);

let work = '';
let pcap = '';
let auditLog = '';
let cases: UiCases;
let ui: RunningUi;

async function uploadAndWait(base: string): Promise<CaseStatus> {
  const form = new FormData();
  form.append('capture', Bun.file(pcap), 'bench.pcap');
  form.append('audit', Bun.file(auditLog), 'audit.log');
  const res = await fetch(`${base}/api/provmon/offline/cases`, { method: 'POST', body: form, headers: { 'kbn-xsrf': 'bench' } });
  const accepted = (await res.json()) as { id?: string; message?: string };
  if (res.status !== 202) throw new Error(`upload refused: ${accepted.message}`);
  for (;;) {
    const job = (await (await fetch(`${base}/api/provmon/offline/cases/${accepted.id}`)).json()) as CaseStatus;
    if (job.phase === 'done') return job;
    if (job.phase === 'failed') throw new Error(`analysis failed: ${job.error?.message}`);
    await Bun.sleep(20);
  }
}

export const offlineUpload: Benchmark = {
  name: 'offline upload',
  unit: 's',
  better: 'lower',
  rounds: 1,
  note: `${SIZE} packets and ${SIZE} audit records; each run writes a fresh local store`,
  setup: () => {
    work = mkdtempSync(join(tmpdir(), 'provmon-bench-upload-'));
    ({ pcap, auditLog } = writeAnalyzeInputs(work, SIZE));
    const live = { where: 'none', use: <T>(fn: (s: never) => Promise<T>) => fn({ source: new MemorySource([]) } as never), describe: () => undefined, close: async () => undefined };
    cases = openUiCases({ kind: 'local', dir: join(work, 'live') }, { casesDir: join(work, 'cases') });
    const assets = { target: KIBANA_TARGETS[0]!, pluginVersion: '0', plugin: '', sharedDeps: '', loader: '', core: '', icon: '' };
    ui = startUiServer({ host: '127.0.0.1', port: 0, assets, store: live, cases });
    process.stderr.write(`  inputs: capture ${(statSync(pcap).size / 2 ** 20).toFixed(0)} MiB, audit log ${(statSync(auditLog).size / 2 ** 20).toFixed(0)} MiB\n`);
  },
  teardown: async () => {
    await ui.stop();
    await cases.close();
    rmSync(work, { recursive: true, force: true });
  },
  baseline: {
    label: 'analyzeCase() on the files, in-process, local store',
    measure: async () => {
      const dir = mkdtempSync(join(work, 'direct-'));
      const start = Bun.nanoseconds();
      const sink = new LocalSink({ dir, rotateBytes: 128 * 2 ** 20, maxFiles: 1_000_000 });
      await analyzeCase({ pcap: { path: pcap }, audit: [{ path: auditLog }], sink, namespace: 'bench', toleranceMs: 2000 });
      await sink.close();
      const s = (Bun.nanoseconds() - start) / 1e9;
      rmSync(dir, { recursive: true, force: true });
      return s;
    },
  },
  cases: [
    {
      label: 'POST /api/provmon/offline/cases → job done (provmon ui)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const job = await uploadAndWait(`http://127.0.0.1:${ui.port}`);
        const s = (Bun.nanoseconds() - start) / 1e9;
        process.stderr.write(`  upload: ${s.toFixed(1)} s, ${Object.values(job.summary!.documents).reduce((a, b) => a + b, 0)} documents, peak RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB\n`);
        return s;
      },
    },
  ],
};
