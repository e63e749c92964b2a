/**
 * `provmon ui --es` over the real Elasticsearch test node (security on) in Chromium: the same walk-through as over
 * the local store (provenance from a URL, chain, PNG, events filters, click-through, errors as toasts), with the
 * route handlers reading through the engine's Elasticsearch source; refused credentials and an unreachable
 * cluster answer 401 / 502 with a message naming the problem, shown as a toast.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { launchBrowser, openPage, screenshot, startUi, type RunningUi } from '../../../test/support/browser.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { walkThrough } from './testdata/walkthrough.ts';

setDefaultTimeout(300_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `ui${process.pid}${Date.now().toString(36)}`;
const w = syntheticWorkload({ seed: 23, packages: 6, filesPerPackage: 6, requests: 6 });
const attack = w.attack!;
const events: EcsEvent[] = w.events
  .map((e) => ({ ...e, data_stream: { ...e.data_stream, namespace: NS } }))
  // The sensor's DNS documents come from packets and name no process (the dns data stream does not map process.*).
  .map((e) => (e.event.dataset === 'provmon.dns' ? (({ process: _p, ...rest }) => rest as EcsEvent)(e) : e));

let node: EsNode;
let client: Client;
let configFile: string;
let browser: Browser;
const running: RunningUi[] = [];

beforeAll(async () => {
  node = await testNode('secure');
  client = testClient(node);
  configFile = join(tempDir('provmon-ui-es-cfg-'), 'config.json');
  writeFileSync(configFile, JSON.stringify({ es_config: { es_user: node.username ?? 'elastic', es_password: node.password ?? '' } }), { mode: 0o600 });
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--config', configFile, '--es', node.url, '--core-only'], { cwd: ROOT, env });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
  const body: unknown[] = [];
  for (const e of events) body.push({ create: { _index: `logs-${e.data_stream.dataset}-${NS}`, _id: e.event.id } }, e);
  const r = await client.bulk({ operations: body, refresh: true });
  if (r.errors) throw new Error('bulk failed');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const ui of running) await ui.stop();
  await client?.close();
  removeTempDirs();
});

async function ui(args: string[], env: Record<string, string> = {}): Promise<RunningUi> {
  const u = await startUi(args, env);
  running.push(u);
  return u;
}

describe('provmon ui --es in Chromium', () => {
  const target = KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!;
  test(`the walk-through over Elasticsearch (Kibana ${target.kibanaVersion} shared deps)`, async () => {
    const u = await ui(['--config', configFile, '--es', node.url, '--index', `logs-provmon.*-${NS}`, '--kibana', target.kibanaVersion]);
    await walkThrough(
      browser,
      u.url,
      {
        poi: `ip:${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`,
        nodes: [attack.dropped, attack.secret, `${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`, `[${attack.payload.pid}]`, `curl[${attack.downloader.pid}]`],
        processName: 'curl',
        action: 'connection_attempted',
      },
      `es-${target.line}`,
    );
    // The graph route answers what provmon graph --es prints for the same request.
    const base = u.url.replace('/app/provmon', '');
    const poi = `ip:${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`;
    const served = (await (await fetch(`${base}/api/provmon/graph?poi=${encodeURIComponent(poi)}`)).json()) as Record<string, unknown>;
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
    const cli = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'graph', '--config', configFile, '--es', node.url, '--index', `logs-provmon.*-${NS}`, '--poi', poi], { cwd: ROOT, env });
    expect(cli.exitCode).toBe(0);
    expect(served).toEqual(JSON.parse(cli.stdout.toString()));
  });

  test('refused credentials: 401 naming it, shown as a toast; an unreachable cluster: 502', async () => {
    const bad = await ui(['--es', node.url], { PROVMON_ES_CONFIG__ES_USER: 'elastic', PROVMON_ES_CONFIG__ES_PASSWORD: 'wrong-password' });
    const base = bad.url.replace('/app/provmon', '');
    const r = await fetch(`${base}/api/provmon/graph?poi=ip%3A127.0.0.1%3A9999`);
    expect(r.status).toBe(401);
    const body = (await r.json()) as { message: string };
    expect(body.message).toContain('refused the credentials (HTTP 401)');
    expect(body.message).not.toContain('wrong-password');
    const { page, log } = await openPage(browser);
    await page.goto(`${bad.url}/provenance?poi=ip%3A127.0.0.1%3A9999`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-test-subj="provmonToastDanger"]', { timeout: 60_000 });
    expect(await page.$eval('[data-test-subj="provmonToastDanger"]', (e) => e.textContent ?? '')).toContain('HTTP 401');
    expect(await page.$('[data-test-subj="provmonTab-events"]')).not.toBeNull();
    await screenshot(page, 'es-refused');
    await page.close();
    expect(log.csp).toEqual([]);

    const down = await ui(['--es', 'http://127.0.0.1:1']);
    const d = await fetch(`${down.url.replace('/app/provmon', '')}/api/provmon/overview`);
    expect(d.status).toBe(502);
    expect(((await d.json()) as { message: string }).message).toContain('cannot reach Elasticsearch at http://127.0.0.1:1');
  });
});
