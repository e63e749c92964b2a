/**
 * `provmon analyze --es URL --namespace N` into the real test node: the case lands in logs-provmon.*-N through the
 * sensor's Elasticsearch output, flows carry the process the audit log names, and `provmon graph --es` reads it.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { curlConnect } from '../audit/testdata/samples.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `case${process.pid}${Date.now().toString(36)}`;
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
const dir = mkdtempSync(join(tmpdir(), 'provmon-analyze-es-'));
const pcap = resolve(import.meta.dir, '../pcap/testdata/lo.pcapng');
// curl (pid 4242) runs and connects to the HTTP server that lo.pcapng's flows 52240/52242 → 127.0.80.1:8080 reach
const audit = curlConnect('1795520759', '127.0.80.1', 8080);

let node: EsNode;
let client: Client;

function provmon(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), ...args], { cwd: dir, env: ENV });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  node = await testNode('open');
  client = testClient(node);
  writeFileSync(join(dir, 'audit.log'), `${audit.join('\n')}\n`);
  const setup = provmon(['setup', '--es', node.url, '--core-only']);
  if (setup.code !== 0) throw new Error(`provmon setup failed: ${setup.stderr}`);
});

afterAll(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('provmon analyze into Elasticsearch', () => {
  test('the case is in logs-provmon.*-<namespace>, flows attributed, and provmon graph --es reads it', async () => {
    const r = provmon(['analyze', '--pcap', pcap, '--audit-log', join(dir, 'audit.log'), '--es', node.url, '--namespace', NS, '--set', `output_dir=${join(dir, 'out')}`, '--json', '--log-level', 'warn']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { correlation: { attributed: number; by_method: Record<string, number> }; documents: Record<string, number>; output: Record<string, number> };
    expect(summary.correlation.by_method.connect_destination).toBe(2);
    await client.indices.refresh({ index: `logs-provmon.*-${NS}` });
    const flows = await client.search<EcsEvent>({ index: `logs-provmon.flow-${NS}`, size: 100, query: { term: { 'destination.port': 8080 } } });
    const attributed = flows.hits.hits.map((h) => h._source!).filter((f) => f.destination?.ip === '127.0.80.1');
    expect(attributed.length).toBeGreaterThanOrEqual(2);
    for (const f of attributed) {
      expect(f.process?.executable).toBe('/usr/bin/curl');
      expect((f.provmon!.attribution as { method: string }).method).toBe('connect_destination');
    }
    const count = await client.count({ index: `logs-provmon.*-${NS}` });
    expect(count.count).toBe(Object.values(summary.documents).reduce((a, b) => a + b, 0));
    const g = provmon(['graph', '--es', node.url, '--index', `logs-provmon.*-${NS}`, '--poi', 'ip:127.0.80.1:8080', '--log-level', 'warn']);
    expect(g.code).toBe(0);
    expect(g.stdout).toContain('/usr/bin/curl');
  });
});
