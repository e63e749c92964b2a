/**
 * provmon ui / Kibana route benches (issue 10), over the 1M-event local store of the graph bench (the engine's
 * synthetic workload scaled up, written once through LocalStore):
 *
 * - GET /api/provmon/graph backward from the exfiltration endpoint, over HTTP through `provmon ui`'s server and the
 *   shared handlers (target ≤ 1000 ms);
 * - GET /api/provmon/events, one page of 5000, newest first, with summary counts over the whole store (target ≤ 300 ms),
 *   and a filtered second page over a window; beside them the same first page by reading the window, the path the
 *   route took before the index counted (still the one for free text);
 * Baseline: the engine alone (traceGraph over LocalStoreSource, in process), the figure the routes add to.
 * And URL → a drawn 1,000-node graph in Chromium (target ≤ 2000 ms), over a ~15k-event store: navigation to the
 * provenance URL until the canvas is drawn and the node table counts every node; baseline the graph route alone.
 */
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer-core';
import { traceGraph, type Workload } from '../kibana-plugin/common/graph/index.ts';
import { scanEvents } from '../kibana-plugin/common/search/events.ts';
import { buildBrowserBundle } from '../kibana-plugin/tooling/build.ts';
import { KIBANA_TARGETS, PLUGIN_ID, type KibanaTarget } from '../kibana-plugin/versions.ts';
import { LocalStoreSource } from '../sensor/src/graph/local-source.ts';
import { buildSharedDeps, loadAssets } from '../sensor/src/ui/assets.ts';
import { startUiServer, type RunningUi } from '../sensor/src/ui/server.ts';
import { openUiStore, type UiStore } from '../sensor/src/ui/store.ts';
import { launchBrowser, refuseBlobWorkers } from '../test/support/browser.ts';
import { writeMillionEventStore, writeSyntheticStore } from './graph.bench.ts';
import type { Benchmark } from './harness.ts';

/** A window of the 1M store (09:00–09:16) whose edges fall inside minutes. */
const WINDOW = { from: '2025-03-01T09:03:30.500Z', to: '2025-03-01T09:12:10.250Z' };

let state: { dir: string; workload: Workload; source: LocalStoreSource; store: UiStore; ui: RunningUi; base: string } | undefined;

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

export const uiRoutes1M: Benchmark = {
  name: 'provmon ui routes over 1M events (local store)',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    const { dir, workload } = writeMillionEventStore('provmon-bench-ui-');
    const source = LocalStoreSource.open(dir);
    const store = openUiStore({ kind: 'local', dir }, () => undefined);
    const ui = startUiServer({ host: '127.0.0.1', port: 0, assets: await loadAssets(KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!), store });
    state = { dir, workload, source, store, ui, base: ui.url.replace('/app/provmon', '') };
    uiRoutes1M.note = `${source.info().events.toLocaleString('en')} events in the store; targets: graph route ≤ 1000 ms, events page ≤ 300 ms`;
  },
  teardown: async () => {
    if (!state) return;
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
      label: 'GET /api/provmon/events size=5000 newest first, summary over 1M (HTTP; counted in the index)',
      measure: () => timedGet('/api/provmon/events?size=5000', (b) => {
        if ((b.events as unknown[]).length !== 5000) throw new Error('not a full page');
      }),
    },
    {
      label: 'GET /api/provmon/events size=5000, process tar, a window with partial minutes, second page (HTTP; counted in the index)',
      measure: () => timedGet(`/api/provmon/events?size=5000&page=1&process_name=tar&from=${WINDOW.from}&to=${WINDOW.to}`, (b) => {
        if ((b.events as unknown[]).length !== 5000) throw new Error('not a full page');
      }),
    },
    {
      label: 'the same first page by reading the whole window (the path before; still the one for free text), in process',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = await scanEvents(state!.source, { window: {}, filter: {}, sort: 'desc', size: 5000, page: 0 });
        if (a.events.length !== 5000) throw new Error('not a full page');
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
  ],
};

export interface DrawBench {
  dir: string;
  store: UiStore;
  ui: RunningUi;
  base: string;
  browser: Browser;
  page: Page;
  /** a second page whose CSP refuses blob: workers: the layout on the main thread (the worker's saving, same run) */
  mainThreadPage: Page;
  query: string;
  nodes: number;
  note: string;
  /** file name → unminified text of the bundles served (with `unminified`; bench/ui-draw-profile.ts) */
  unminifiedSources: Map<string, string>;
  close(): Promise<void>;
}

/**
 * The ~15k-event store, `provmon ui` over it under one Kibana line's shared deps, Chromium, and the provenance URL of
 * the 1,000-node graph: forward and unreduced from the package installer (npm ci), capped at max_nodes=1000.
 */
export async function openDrawBench(target: KibanaTarget, options: { unminified?: boolean } = {}): Promise<DrawBench> {
  const { dir, workload } = writeSyntheticStore('provmon-bench-ui-draw-', 60);
  const store = openUiStore({ kind: 'local', dir }, () => undefined);
  const assets = await loadAssets(target);
  const unminifiedSources = new Map<string, string>();
  if (options.unminified) {
    assets.plugin = await buildBrowserBundle({ minify: false });
    assets.sharedDeps = await buildSharedDeps(target, { minify: false });
    unminifiedSources.set(`${PLUGIN_ID}.plugin.js`, assets.plugin).set('shared-deps.js', assets.sharedDeps);
  }
  const ui = startUiServer({ host: '127.0.0.1', port: 0, assets, store });
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const mainThreadPage = await browser.newPage();
  await mainThreadPage.setViewport({ width: 1400, height: 1000 });
  await refuseBlobWorkers(mainThreadPage);
  const installer = workload.events.find((e) => e.event.action === 'exec' && e.process?.args?.includes('/usr/bin/npm'));
  if (!installer) throw new Error('the synthetic workload has no npm exec');
  const query = new URLSearchParams({ poi: `process:${installer.process!.entity_id}`, direction: 'forward', reduce: 'false', max_nodes: '1000' }).toString();
  const base = ui.url.replace('/app/provmon', '');
  const g = (await (await fetch(`${base}/api/provmon/graph?${query}`)).json()) as { nodes: unknown[]; edges: unknown[] };
  const note = `${workload.events.length.toLocaleString('en')} events in the store; ${g.nodes.length} nodes and ${g.edges.length} edges (forward from npm ci, unreduced, max_nodes=1000), Chromium, Kibana ${target.kibanaVersion} shared deps`;
  return {
    dir, store, ui, base, browser, page, mainThreadPage, query, nodes: g.nodes.length, note, unminifiedSources,
    close: async () => {
      await browser.close();
      await ui.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Until the canvas is drawn and the node table counts every node, then two frames. */
export async function waitDrawn(page: Page, nodes: number): Promise<void> {
  await page.waitForFunction(
    // The node table's caption counts every node of the graph (its rows are paged); the canvas exists once drawn.
    (n) => (document.querySelector('[data-test-subj="provmonNodeTable"] caption')?.textContent ?? '').includes(`(${n})`) && !!document.querySelector('[data-test-subj="provmonGraphCanvas"] canvas'),
    { timeout: 180_000, polling: 50 },
    nodes,
  );
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

let draw: DrawBench | undefined;

/** Navigation to the provenance URL until the canvas is drawn and the node table counts every node. */
async function drawn(page: Page): Promise<number> {
  const d = draw!;
  // the tab in front: a background tab gets no animation frames
  await page.bringToFront();
  await page.goto('about:blank');
  const start = Bun.nanoseconds();
  await page.goto(`${d.ui.url}/provenance?${d.query}`, { waitUntil: 'domcontentloaded' });
  await waitDrawn(page, d.nodes);
  return (Bun.nanoseconds() - start) / 1e6;
}

/** URL → drawn 1,000-node graph, over a store small enough that the route is a small part of it (~15k events). */
export const uiDraw1000: Benchmark = {
  name: 'provmon ui: URL to a drawn 1,000-node graph in Chromium',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    draw = await openDrawBench(KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!);
    uiDraw1000.note = `${draw.note}; target ≤ 2000 ms`;
  },
  teardown: async () => {
    await draw?.close();
    draw = undefined;
  },
  baseline: {
    label: 'the graph route alone (HTTP, JSON parsed)',
    measure: async () => {
      const start = Bun.nanoseconds();
      await (await fetch(`${draw!.base}/api/provmon/graph?${draw!.query}`)).json();
      return (Bun.nanoseconds() - start) / 1e6;
    },
  },
  cases: [
    { label: 'URL → drawn 1,000-node graph (page, route, layout, canvas, tables)', measure: () => drawn(draw!.page) },
    { label: 'the same, layout on the main thread (a CSP that refuses blob: workers)', measure: () => drawn(draw!.mainThreadPage) },
  ],
};
