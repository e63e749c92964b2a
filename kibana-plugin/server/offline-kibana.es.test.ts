/**
 * The Kibana host of the Offline analysis, as far as it can be run without Kibana: the built server module under
 * Node (Kibana's runtime), its routes registered on a recording router, the upload handed to the POST handler as a
 * Node stream (what `output: 'stream', parse: false` gives), the analysis in the bundled worker thread, and a real Elasticsearch client (the test node) in the
 * place of `asCurrentUser`. The case lands in logs-provmon.*-case_<id> with flows attributed, and the graph route
 * reads it with ?case=. Kibana's HTTP server itself (hapi, xsrf, maxBytes, authz) is not run: it cannot be here.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../common/ecs.ts';
import { curlCaseAudit, LO_PCAPNG } from '../../sensor/src/analyze/testdata/curl-case.ts';
import { removeTempDirs, tempDir } from '../../sensor/src/graph/testdata/tmp.ts';
import { testClient, testNode, type EsNode } from '../../test/support/es.ts';
import { buildAnalysisWorker, buildServer } from '../tooling/build.ts';
import type { CaseStatus } from './offline/jobs.ts';
import { ANALYSIS_WORKER_FILE } from './offline/worker-file.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../..');
// beside the repository's node_modules, as an installed plugin is beside Kibana's
const serverDir = join(ROOT, '.cache', `kibana-server-${process.pid}`);
const serverModule = join(serverDir, 'index.js');
const work = tempDir('provmon-offline-kibana-');
const audit = join(work, 'audit.log');
let node: EsNode;
let client: Client;

beforeAll(async () => {
  // the zip's server/ folder: index.js and the analysis worker it starts from beside itself
  mkdirSync(serverDir, { recursive: true });
  // as in the zip, a package.json without "type": the .js files are CommonJS (the repository's says module)
  writeFileSync(join(serverDir, 'package.json'), '{ "name": "provmon", "private": true }\n');
  writeFileSync(serverModule, await buildServer());
  writeFileSync(join(serverDir, ANALYSIS_WORKER_FILE), await buildAnalysisWorker());
  writeFileSync(audit, curlCaseAudit());
  node = await testNode('open');
  client = testClient(node);
  // the index templates (mappings: ip, keyword…) as a user installs them before any case is written
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
  const setup = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), 'setup', '--es', node.url, '--core-only'], { cwd: work, env });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr}`);
});
afterAll(async () => {
  await client?.close();
  rmSync(serverDir, { recursive: true, force: true });
  removeTempDirs();
});

describe('the Kibana server module runs an upload under Node', () => {
  test('POST stream → 202, the job reaches done, the case is in Elasticsearch and the graph route reads it with ?case=', async () => {
    const r = Bun.spawnSync(['node', join(import.meta.dir, 'offline/testdata/kibana-host.cjs'), serverModule, node.url, LO_PCAPNG, audit], { cwd: ROOT });
    expect(r.stderr.toString()).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { node: string; accepted: { status: number; body: { id: string } }; job: { status: number; body: CaseStatus }; graph: { status: number; body: { nodes: unknown[] } } };
    expect(out.node).toMatch(/^v\d+/);
    expect(out.accepted.status).toBe(202);
    const id = out.accepted.body.id;
    const job = out.job.body;
    expect(job.error).toBeUndefined();
    expect(job.phase).toBe('done');
    expect(job.where).toBe(`Elasticsearch at Elasticsearch (as the requesting user), logs-provmon.*-case_${id}`);
    expect(job.summary!.correlation.by_method.connect_destination).toBe(2);
    const count = await client.count({ index: `logs-provmon.*-case_${id}` });
    expect(count.count).toBe(Object.values(job.summary!.documents).reduce((a, b) => a + b, 0));
    const flows = await client.search<EcsEvent>({ index: `logs-provmon.flow-case_${id}`, size: 100, query: { term: { 'destination.ip': '127.0.80.1' } } });
    expect(flows.hits.hits.length).toBeGreaterThanOrEqual(2);
    for (const f of flows.hits.hits) expect(f._source!.process?.executable).toBe('/usr/bin/curl');
    expect(out.graph).toMatchObject({ status: 200 });
    expect(JSON.stringify(out.graph.body.nodes)).toContain('/usr/bin/curl');
  });
});
