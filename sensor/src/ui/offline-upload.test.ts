/**
 * The Offline analysis upload over a real `provmon ui` server (Bun.serve) and a real local store: a committed
 * capture and an audit log go up as multipart/form-data, the job's summary equals `provmon analyze`'s for the same
 * files, and the read routes open the case with ?case=<id>. Bad uploads are refused with the file and the limit
 * named, and no upload leaves a byte behind in the private upload directory.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { MemorySource } from '../../../kibana-plugin/common/graph/source.ts';
import type { CaseStatus } from '../../../kibana-plugin/server/offline/jobs.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { curlCaseAudit, LO_PCAPNG } from '../analyze/testdata/curl-case.ts';
import { startUi } from '../../../test/support/browser.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { writeBenchCapture } from '../pcap/bench-capture.ts';
import type { UiAssets } from './assets.ts';
import { openUiCases, type UiCases } from './cases.ts';
import { startUiServer, type RunningUi } from './server.ts';
import type { UiStore } from './store.ts';

setDefaultTimeout(60_000);

const ROOT = resolve(import.meta.dir, '../../..');
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
const work = tempDir('provmon-offline-upload-');
const auditPath = join(work, 'audit.log');
writeFileSync(auditPath, curlCaseAudit());
const live: UiStore = {
  where: 'the live store',
  use: (fn) => fn({ source: new MemorySource([]), where: 'the live store', descriptor: { type: 'memory' }, info: async () => ({ events: 0 }) }),
  describe: () => undefined,
  close: async () => undefined,
};
const assets: UiAssets = { target: KIBANA_TARGETS[0]!, pluginVersion: '0.1.0', plugin: '/*plugin*/', sharedDeps: '/*deps*/', loader: '/*loader*/', core: '/*core*/', icon: '<svg/>' };
const running: { ui: RunningUi; cases: UiCases }[] = [];
afterAll(async () => {
  for (const r of running) {
    await r.ui.stop();
    await r.cases.close();
  }
  removeTempDirs();
});

function serve(options: Parameters<typeof openUiCases>[1]): { base: string; casesDir: string; uploads: () => string[] } {
  const cases = openUiCases({ kind: 'local', dir: join(work, 'live') }, options);
  const ui = startUiServer({ host: '127.0.0.1', port: 0, assets, store: live, cases });
  running.push({ ui, cases });
  const uploads = join(options.casesDir, '.uploads');
  return { base: `http://127.0.0.1:${ui.port}`, casesDir: options.casesDir, uploads: () => (existsSync(uploads) ? readdirSync(uploads) : []) };
}

function form(files: { field: 'capture' | 'audit'; name: string; bytes: Uint8Array | string }[], fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const file of files) f.append(file.field, new Blob([file.bytes as BlobPart]), file.name);
  return f;
}

async function post(base: string, body: FormData, headers: Record<string, string> = { 'kbn-xsrf': 'test' }): Promise<{ status: number; body: { message?: string; id?: string; status_url?: string } }> {
  const res = await fetch(`${base}/api/provmon/offline/cases`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as { message?: string; id?: string } };
}

async function finished(base: string, id: string): Promise<CaseStatus> {
  for (;;) {
    const res = await fetch(`${base}/api/provmon/offline/cases/${id}`);
    expect(res.status).toBe(200);
    const job = (await res.json()) as CaseStatus;
    if (job.phase === 'done' || job.phase === 'failed') return job;
    await Bun.sleep(50);
  }
}

const pcapBytes = readFileSync(LO_PCAPNG);
const auditBytes = readFileSync(auditPath);

describe('Offline analysis upload on provmon ui', () => {
  test('capture + audit log: the summary is provmon analyze\'s, and the read routes open the case', async () => {
    const s = serve({ casesDir: join(work, 'cases-happy') });
    const up = await post(s.base, form([{ field: 'capture', name: 'lo.pcapng', bytes: pcapBytes }, { field: 'audit', name: 'audit.log', bytes: auditBytes }], { tolerance: '2' }));
    expect(up.status).toBe(202);
    const id = up.body.id!;
    expect(id).toMatch(/^[a-z0-9]{16}$/);
    expect(up.body.status_url).toBe(`/api/provmon/offline/cases/${id}`);
    const job = await finished(s.base, id);
    expect(job.error).toBeUndefined();
    expect(job.phase).toBe('done');
    expect(job.files).toEqual({ capture: { name: 'lo.pcapng', bytes: pcapBytes.length, kind: 'pcapng' }, audit: [{ name: 'audit.log', bytes: auditBytes.length }] });

    const cliDir = join(work, 'cli-case');
    const cli = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), 'analyze', '--pcap', LO_PCAPNG, '--audit-log', auditPath, '--events-dir', cliDir, '--namespace', `case_${id}`, '--json', '--log-level', 'warn'], { cwd: work, env: ENV });
    expect(cli.stderr.toString()).toBe('');
    const { output: _output, ...fromCli } = JSON.parse(cli.stdout.toString()) as Record<string, unknown> & { pcap: { file: string }; audit: { files: string[] } };
    fromCli.pcap.file = 'lo.pcapng';
    fromCli.audit.files = ['audit.log'];
    expect(job.summary as unknown).toEqual(fromCli);
    expect(job.summary!.correlation.by_method.connect_destination).toBe(2);

    // the case is its own local store under the cases directory; nothing of the upload is left
    expect(statSync(join(s.casesDir, id)).isDirectory()).toBe(true);
    expect(s.uploads()).toEqual([]);
    const graph = await fetch(`${s.base}/api/provmon/graph?poi=${encodeURIComponent('ip:127.0.80.1:8080')}&case=${id}`);
    expect(graph.status).toBe(200);
    const g = (await graph.json()) as { nodes: { kind: string; label: string; data?: { executable?: string } }[] };
    expect(JSON.stringify(g.nodes)).toContain('/usr/bin/curl');
    const events = (await (await fetch(`${s.base}/api/provmon/events?case=${id}&from=${job.summary!.timeline.from}`)).json()) as { total: number; events: { data_stream: { namespace: string } }[] };
    expect(events.total).toBeGreaterThan(0);
    for (const e of events.events) expect(e.data_stream.namespace).toBe(`case_${id}`);
    // without ?case= the live store answers, which has none of it
    const liveGraph = await fetch(`${s.base}/api/provmon/graph?poi=${encodeURIComponent('ip:127.0.80.1:8080')}`);
    expect(liveGraph.status).toBe(404);
  });

  test('a case id is checked strictly; an unknown case is a 404 naming it', async () => {
    const s = serve({ casesDir: join(work, 'cases-ids') });
    const traversal = await fetch(`${s.base}/api/provmon/events?case=${encodeURIComponent('../live')}`);
    expect(traversal.status).toBe(400);
    expect(((await traversal.json()) as { message: string }).message).toMatch(/case: expected a case id/);
    const unknown = await fetch(`${s.base}/api/provmon/events?case=aaaaaaaaaaaaaaaa`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toContain('no case aaaaaaaaaaaaaaaa');
    const job = await fetch(`${s.base}/api/provmon/offline/cases/aaaaaaaaaaaaaaaa`);
    expect(job.status).toBe(404);
    expect((await fetch(`${s.base}/api/provmon/offline/cases/..%2F..%2Fetc`)).status).toBe(400);
  });

  test('a file that is neither a capture nor an audit log is refused naming it and what it looks like', async () => {
    const s = serve({ casesDir: join(work, 'cases-neither') });
    const text = await post(s.base, form([{ field: 'audit', name: 'notes.txt', bytes: 'meeting notes, not a log\n' }]));
    expect(text.status).toBe(415);
    expect(text.body.message).toBe('notes.txt is neither a pcap/pcapng capture nor a Linux audit log: it is text, starting "meeting notes, not a log"');
    const gz = await post(s.base, form([{ field: 'capture', name: 'trace.pcap.gz', bytes: new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]) }]));
    expect(gz.status).toBe(415);
    expect(gz.body.message).toContain('trace.pcap.gz is neither a pcap/pcapng capture nor a Linux audit log: it is a gzip-compressed file (gunzip it first)');
    const swapped = await post(s.base, form([{ field: 'capture', name: 'audit.log', bytes: auditBytes }]));
    expect(swapped.status).toBe(400);
    expect(swapped.body.message).toBe('audit.log is a Linux audit log, not a capture: add it as an audit log');
    expect(s.uploads()).toEqual([]);
  });

  test('limits: a file over the per-file limit, an upload over the total, two captures, too many logs', async () => {
    const s = serve({ casesDir: join(work, 'cases-limits'), limits: { maxFileBytes: 32 * 1024, maxTotalBytes: 48 * 1024, maxAuditFiles: 2 } });
    const big = await post(s.base, form([{ field: 'capture', name: 'lo.pcapng', bytes: pcapBytes }]));
    expect(big.status).toBe(413);
    expect(big.body.message).toBe('lo.pcapng is larger than the limit of 32 KiB per file');
    const half = pcapBytes.subarray(0, 20 * 1024);
    const total = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }, { field: 'capture', name: 'one.pcapng', bytes: half }, { field: 'audit', name: 'b.log', bytes: `${auditBytes.toString()}${'#'.repeat(30 * 1024)}` }]));
    expect(total.status).toBe(413);
    expect(total.body.message).toBe('the upload is larger than the limit of 48 KiB in all (reached while receiving b.log)');
    const two = await post(s.base, form([{ field: 'capture', name: 'one.pcapng', bytes: half }, { field: 'capture', name: 'two.pcapng', bytes: half }]));
    expect(two.status).toBe(400);
    expect(two.body.message).toBe('two captures (one.pcapng and two.pcapng): a case takes one capture; merge them first (mergecap)');
    const many = await post(s.base, form([1, 2, 3].map((n) => ({ field: 'audit' as const, name: `audit.log.${n}`, bytes: auditBytes }))));
    expect(many.status).toBe(413);
    expect(many.body.message).toContain('more than 2 audit logs in one upload');
    const none = await post(s.base, form([], { tolerance: '1' }));
    expect(none.status).toBe(400);
    expect(none.body.message).toContain('nothing to analyze');
    const tolerance = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }], { tolerance: 'soon' }));
    expect(tolerance.status).toBe(400);
    expect(tolerance.body.message).toBe('tolerance: expected seconds from 0 to 3600, got "soon"');
    expect(s.uploads()).toEqual([]);
    expect(readdirSync(s.casesDir)).toEqual(['.uploads']);
  });

  test('uploads are spooled only into a private directory: one others can enter is refused, naming it', async () => {
    const casesDir = join(work, 'cases-shared');
    mkdirSync(join(casesDir, '.uploads'), { recursive: true, mode: 0o755 });
    const s = serve({ casesDir });
    const r = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }]));
    expect(r.status).toBe(500);
    expect(r.body.message).toBe(`${join(casesDir, '.uploads')} is not a private directory of this user (a directory with mode 700 owned by uid ${process.getuid!()}): uploads are not spooled there`);
    expect(readdirSync(join(casesDir, '.uploads'))).toEqual([]);
  });

  test('provmon ui: a --cases-dir it cannot use stops it (exit 2); an unusable default only turns the upload off, saying why', async () => {
    const liveDir = join(work, 'cli-live');
    mkdirSync(liveDir);
    new LocalStore({ dir: liveDir }).close();
    const bad = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), 'ui', '--events-dir', liveDir, '--cases-dir', '/proc/provmon-nope', '--port', '0'], { cwd: work, env: ENV });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain('--cases-dir /proc/provmon-nope cannot be used');
    const inside = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), 'ui', '--events-dir', liveDir, '--cases-dir', join(liveDir, 'cases'), '--port', '0'], { cwd: work, env: ENV });
    expect(inside.exitCode).toBe(2);
    expect(inside.stderr.toString()).toContain('is inside the events directory');
    const ui = await startUi(['--events-dir', liveDir, '--set', 'output_dir=/proc/provmon-nope']);
    try {
      const r = await post(new URL(ui.url).origin, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }]));
      expect(r.status).toBe(503);
      expect(r.body.message).toStartWith('the Offline analysis is off on this server: no usable cases directory (');
      expect(r.body.message).toEndWith('start provmon ui with --cases-dir <dir>');
    } finally {
      await ui.stop();
    }
  });

  test('CSRF: POST needs kbn-xsrf; POST is served on the upload route only', async () => {
    const s = serve({ casesDir: join(work, 'cases-xsrf') });
    const refused = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }]), {});
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('Request must contain a kbn-xsrf header.');
    const elsewhere = await fetch(`${s.base}/api/provmon/events`, { method: 'POST', headers: { 'kbn-xsrf': 'x' } });
    expect(elsewhere.status).toBe(405);
    const json = await fetch(`${s.base}/api/provmon/offline/cases`, { method: 'POST', headers: { 'kbn-xsrf': 'x', 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect(s.uploads()).toEqual([]);
  });

  test('an upload cut off mid-file leaves nothing behind, frees its slot, and a busy server answers 429 meanwhile', async () => {
    const s = serve({ casesDir: join(work, 'cases-abort'), jobs: { maxActive: 1 } });
    const port = Number(new URL(s.base).port);
    const boundary = 'provmonboundary';
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="capture"; filename="big.pcapng"\r\ncontent-type: application/octet-stream\r\n\r\n`;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.write(`POST /api/provmon/offline/cases HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nkbn-xsrf: t\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${10 * 1024 * 1024}\r\n\r\n${head}`);
    socket.write(pcapBytes);
    // the first bytes arrived: the file is being spooled, and the one slot is taken
    for (let i = 0; i < 200 && s.uploads().length === 0; i++) await Bun.sleep(20);
    expect(s.uploads()).toHaveLength(1);
    const busy = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }]));
    expect(busy.status).toBe(429);
    expect(busy.body.message).toBe('1 analyses are already received or running (the limit): try again when one has finished');
    socket.destroy();
    for (let i = 0; i < 200 && s.uploads().length > 0; i++) await Bun.sleep(20);
    expect(s.uploads()).toEqual([]);
    const after = await post(s.base, form([{ field: 'audit', name: 'a.log', bytes: auditBytes }]));
    expect(after.status).toBe(202);
    expect((await finished(s.base, after.body.id!)).phase).toBe('done');
  });

  test('shutting down stops a running analysis: its worker ends, its job says why, its upload is removed', async () => {
    const casesDir = join(work, 'cases-stop');
    const cases = openUiCases({ kind: 'local', dir: join(work, 'live') }, { casesDir });
    const ui = startUiServer({ host: '127.0.0.1', port: 0, assets, store: live, cases });
    const big = join(work, 'big.pcap');
    writeBenchCapture(big, 400_000);
    try {
      const base = `http://127.0.0.1:${ui.port}`;
      const form = new FormData();
      form.append('capture', Bun.file(big), 'big.pcap');
      const up = await post(base, form);
      expect(up.status).toBe(202);
      let job: CaseStatus;
      do {
        await Bun.sleep(20);
        job = (await (await fetch(`${base}/api/provmon/offline/cases/${up.body.id}`)).json()) as CaseStatus;
      } while (job.phase === 'queued');
      expect(job.phase).toBe('pcap');
      await cases.close();
      const stopped = cases.host.jobs.status(up.body.id!)!;
      expect(stopped.phase).toBe('failed');
      expect(stopped.error!.message).toBe('the analysis was stopped: the server is shutting down');
      expect(readdirSync(join(casesDir, '.uploads'))).toEqual([]);
    } finally {
      await ui.stop();
    }
  });
});
