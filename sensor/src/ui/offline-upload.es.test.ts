/**
 * The Offline analysis upload on `provmon ui --es` (started as users start it) against the secured test node: the
 * case goes into logs-provmon.*-case_<id> with the ui's credentials, the graph route reads it with ?case=; and with
 * credentials Elasticsearch refuses, the job fails with Elasticsearch's reason instead of reporting a case.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CaseStatus } from '../../../kibana-plugin/server/offline/jobs.ts';
import { startUi, type RunningUi } from '../../../test/support/browser.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { curlCaseAudit, LO_PCAPNG } from '../analyze/testdata/curl-case.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const work = tempDir('provmon-offline-es-');
let node: EsNode;
let client: Client;
const running: RunningUi[] = [];

function config(name: string, password: string): string {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify({ es_config: { es_user: node.username ?? 'elastic', es_password: password } }), { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  node = await testNode('secure');
  client = testClient(node);
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--config', config('setup', node.password ?? ''), '--es', node.url, '--core-only'], { cwd: ROOT, env });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
});
afterAll(async () => {
  for (const ui of running) await ui.stop();
  await client?.close();
  removeTempDirs();
});

async function upload(base: string): Promise<CaseStatus> {
  const form = new FormData();
  form.append('capture', new Blob([readFileSync(LO_PCAPNG)]), 'lo.pcapng');
  form.append('audit', new Blob([curlCaseAudit()]), 'audit.log');
  const res = await fetch(`${base}/api/provmon/offline/cases`, { method: 'POST', body: form, headers: { 'kbn-xsrf': 't' } });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const job = (await (await fetch(`${base}/api/provmon/offline/cases/${id}`)).json()) as CaseStatus;
    if (job.phase === 'done' || job.phase === 'failed') return job;
    await Bun.sleep(100);
  }
}

describe('Offline analysis on provmon ui --es', () => {
  test('the case is the namespace case_<id>, written with the ui\'s credentials and read back with ?case=', async () => {
    const ui = await startUi(['--config', config('good', node.password ?? ''), '--es', node.url, '--cases-dir', join(work, 'cases')]);
    running.push(ui);
    const base = new URL(ui.url).origin;
    const job = await upload(base);
    expect(job.error).toBeUndefined();
    expect(job.where).toContain(`logs-provmon.*-case_${job.id}`);
    await client.indices.refresh({ index: `logs-provmon.*-case_${job.id}` });
    const count = await client.count({ index: `logs-provmon.*-case_${job.id}` });
    expect(count.count).toBe(Object.values(job.summary!.documents).reduce((a, b) => a + b, 0));
    const graph = await fetch(`${base}/api/provmon/graph?poi=${encodeURIComponent('ip:127.0.80.1:8080')}&case=${job.id}`);
    expect(graph.status).toBe(200);
    expect(await graph.text()).toContain('/usr/bin/curl');
    // the upload and the bulk sink's spool room went with the job
    expect(readdirSync(join(work, 'cases', '.uploads'))).toEqual([]);
  });

  test('credentials Elasticsearch refuses: the job fails naming the 401, no case is reported', async () => {
    const ui = await startUi(['--config', config('bad', 'not-the-password'), '--es', node.url, '--cases-dir', join(work, 'cases-bad')]);
    running.push(ui);
    const job = await upload(new URL(ui.url).origin);
    expect(job.phase).toBe('failed');
    expect(job.summary).toBeUndefined();
    expect(job.error!.status).toBe(401);
    expect(job.error!.message).toMatch(/^Elasticsearch took 0 of the case's \d+ documents into logs-provmon\.\*-case_[a-z0-9]{16}: .*401/);
    expect(readdirSync(join(work, 'cases-bad', '.uploads'))).toEqual([]);
  });
});
