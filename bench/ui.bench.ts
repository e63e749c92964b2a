/**
 * provmon ui / Kibana route benches (issue 10), over the 1M-event local store of the graph bench (the engine's
 * synthetic workload scaled up, written once through LocalStore):
 *
 * - GET /api/provmon/graph backward from the exfiltration endpoint, over HTTP through `provmon ui`'s server and the
 *   shared handlers (target ≤ 1000 ms);
 * - GET /api/provmon/events, one page of 5000, newest first, with summary counts over the whole store (target ≤ 300 ms);
 * - URL → a drawn 1,000-node graph in Chromium: navigation to the provenance URL until the canvas is drawn and the
 *   node table counts every node (target ≤ 2000 ms).
 * Baseline: the engine alone (traceGraph over LocalStoreSource, in process), the figure the routes add to.
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';
import { traceGraph, type Workload } from '../kibana-plugin/common/graph/index.ts';
import { KIBANA_TARGETS } from '../kibana-plugin/versions.ts';
import { LocalStoreSource } from '../sensor/src/graph/local-source.ts';
import { loadAssets } from '../sensor/src/ui/assets.ts';
import { startUiServer, type RunningUi } from '../sensor/src/ui/server.ts';
import { openUiStore, type UiStore } from '../sensor/src/ui/store.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { writeMillionEventStore } from './graph.bench.ts';
import type { Benchmark } from './harness.ts';

let state: { dir: string; workload: Workload; source: LocalStoreSource; store: UiStore; ui: RunningUi; base: string; browser: Browser; page: Page; bigPoi: string; bigNodes: number } | undefined;

async function timedGet(path: string, check: (body: Record<string, unknown>) => void): Promise<number> {
  const start = Bun.nanoseconds();
  const res = await fetch(`${state!.base}${path}`);
  const body = (await res.json()) as Record<string, unknown>;
  const ms = (Bun.nanoseconds() - start) / 1e6;
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  check(body);
  return ms;
}

function exfilPoi(): string {
  const a = state!.workload.attack!;
  return `ip:${a.exfilEndpoint.ip}:${a.exfilEndpoint.port}`;
}

async function drawn(): Promise<number> {
  const s = state!;
  const url = `${s.ui.url}/provenance?${new URLSearchParams({ poi: s.bigPoi, direction: 'forward', reduce: 'false', max_nodes: '1000' })}`;
  await s.page.goto('about:blank');
  const start = Bun.nanoseconds();
  await s.page.goto(url, { waitUntil: 'domcontentloaded' });
  await s.page.waitForFunction(
    // The node table's caption counts every node of the graph (its rows are paged); the canvas exists once drawn.
    (n) => (document.querySelector('[data-test-subj="provmonNodeTable"] caption')?.textContent ?? '').includes(`(${n})`) && !!document.querySelector('[data-test-subj="provmonGraphCanvas"] canvas'),
    { timeout: 120_000, polling: 50 },
    s.bigNodes,
  );
  await s.page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  return (Bun.nanoseconds() - start) / 1e6;
}

export const uiRoutes1M: Benchmark = {
  name: 'provmon ui routes and drawing over 1M events (local store)',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    const { dir, workload } = writeMillionEventStore('provmon-bench-ui-');
    const source = LocalStoreSource.open(dir);
    const store = openUiStore({ kind: 'local', dir }, () => undefined);
    const target = KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!;
    const ui = startUiServer({ host: '127.0.0.1', port: 0, assets: await loadAssets(target), store });
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    // A graph of 1,000 nodes: forward and unreduced from the package installer (npm ci), capped at max_nodes=1000.
    const installer = workload.events.find((e) => e.event.action === 'exec' && e.process?.args?.includes('/usr/bin/npm'));
    if (!installer) throw new Error('the synthetic workload has no npm exec');
    const bigPoi = `process:${installer.process!.entity_id}`;
    state = { dir, workload, source, store, ui, base: ui.url.replace('/app/provmon', ''), browser, page, bigPoi, bigNodes: 0 };
    const big = (await (await fetch(`${state.base}/api/provmon/graph?${new URLSearchParams({ poi: bigPoi, direction: 'forward', reduce: 'false', max_nodes: '1000' })}`)).json()) as { nodes: unknown[] };
    state.bigNodes = big.nodes.length;
    uiRoutes1M.note =
      `${source.info().events.toLocaleString('en')} events in the store; drawing case: ${state.bigNodes} nodes (${bigPoi.slice(0, 40)}…, forward, unreduced, max_nodes=1000), ` +
      `Chromium ${target.kibanaVersion} shared deps; targets: graph route ≤ 1000 ms, events page ≤ 300 ms, URL → drawn ≤ 2000 ms`;
  },
  teardown: async () => {
    if (!state) return;
    await state.browser.close();
    await state.ui.stop();
    await state.store.close();
    state.source.close();
    rmSync(state.dir, { recursive: true, force: true });
    state = undefined;
  },
  baseline: {
    label: 'engine alone: traceGraph backward from the exfiltration endpoint (in process)',
    measure: async () => {
      const start = Bun.nanoseconds();
      await traceGraph(state!.source, { poi: exfilPoi(), direction: 'backward' });
      return (Bun.nanoseconds() - start) / 1e6;
    },
  },
  cases: [
    {
      label: 'GET /api/provmon/graph backward from the exfiltration endpoint (HTTP)',
      measure: () => timedGet(`/api/provmon/graph?poi=${encodeURIComponent(exfilPoi())}`, (b) => {
        if (!(b.nodes as unknown[]).length) throw new Error('empty graph');
      }),
    },
    {
      label: 'GET /api/provmon/events size=5000 newest first, summary over 1M (HTTP)',
      measure: () => timedGet('/api/provmon/events?size=5000', (b) => {
        if ((b.events as unknown[]).length !== 5000) throw new Error('not a full page');
      }),
    },
    { label: 'URL → drawn 1,000-node graph in Chromium', measure: drawn },
  ],
};
