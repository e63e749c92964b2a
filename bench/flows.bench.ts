/**
 * Flows page benches (issue 11):
 *
 * - the data of every chart of the Flows page (GET /api/provmon/flows' handler: totals, twelve charts, rare
 *   destinations, scatter points, top-100 table) over 1 M synthetic flows (plus ~10 % earlier periodic reports),
 *   from Elasticsearch (aggregations on a local node started for the bench, provmon's templates) and from the local
 *   store (the flow table of its embedded index; beside it, reading every flow document, the path before); target
 *   ≤ 1000 ms each. Baseline: counting the final flow reports in
 *   Elasticsearch (one size-0 search), the least any answer costs.
 * - the overview route over the same store: from the index (the local store's rollup) and by reading the window.
 * - URL → every chart of the Flows page drawn by vega in Chromium, over a 20 K-flow local store (target ≤ 1500 ms);
 *   baseline: the flows route alone over HTTP.
 */
import type { Client } from '@elastic/elasticsearch';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type { FlowsRequest } from '../kibana-plugin/common/flows/answer.ts';
import { esFlowsAnswer } from '../kibana-plugin/common/flows/es-flows.ts';
import { flowFilterClauses } from '../kibana-plugin/common/flows/filter.ts';
import { syntheticFlows } from '../kibana-plugin/common/flows/synthetic.ts';
import { localFlowsAnswer, MAX_FLOW_SCAN } from '../kibana-plugin/server/flows-route.ts';
import { overviewAnswer, readOverviewCounts } from '../kibana-plugin/server/overview-route.ts';
import type { ProvmonStore } from '../kibana-plugin/server/http.ts';
import { KIBANA_TARGETS } from '../kibana-plugin/versions.ts';
import { startNode, type EsNode } from '../scripts/es-node/node.ts';
import { LocalStoreSource } from '../sensor/src/graph/local-source.ts';
import { LocalStore } from '../sensor/src/output/local/local-store.ts';
import { loadAssets } from '../sensor/src/ui/assets.ts';
import { startUiServer, type RunningUi } from '../sensor/src/ui/server.ts';
import { openUiStore, type UiStore } from '../sensor/src/ui/store.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { testClient } from '../test/support/es.ts';
import type { Benchmark } from './harness.ts';

const ROOT = resolve(import.meta.dir, '..');
/** 1 M by default; PROVMON_BENCH_FLOWS sets another size (the note says which was measured) */
const FLOWS = Number(process.env.PROVMON_BENCH_FLOWS ?? 1_000_000);
const START = Date.parse('2026-04-01T00:00:00Z');
const SPAN = 86_400_000;
const REQUEST: FlowsRequest = { interval: '5m', sort: 'bytes' };
const INDEX = 'logs-provmon.flow-bench';
/** edges inside hours, as a user's window has them */
const WINDOW = { from: '2026-04-01T03:17:12.345Z', to: '2026-04-01T20:41:00.001Z' };
/** the overview's window: the whole day, with a margin (the last flows end after it) */
const DAY = { from: '2026-03-31T23:00:00.000Z', to: '2026-04-02T01:00:00.000Z' };

let big: { dir: string; node: EsNode; client: Client; local: LocalStoreSource; store: ProvmonStore; docs: number } | undefined;

async function fill(client: Client, dir: string): Promise<number> {
  const writer = new LocalStore({ dir });
  let ops: unknown[] = [];
  let docs = 0;
  const flush = async () => {
    const r = await client.bulk({ operations: ops });
    if (r.errors) throw new Error(JSON.stringify(r.items.find((it) => Object.values(it)[0]?.error)));
    ops = [];
  };
  for (const d of syntheticFlows({ flows: FLOWS, start: START, spanMs: SPAN, namespace: 'bench' })) {
    writer.write(d);
    ops.push({ create: { _index: INDEX, _id: d.event.id } }, d);
    docs++;
    if (ops.length >= 10_000) await flush();
  }
  if (ops.length) await flush();
  writer.close();
  await client.indices.refresh({ index: INDEX });
  return docs;
}

/**
 * The shard request cache answers a repeated size-0 search without aggregating: every round but the first would
 * measure the cache. A user's window moves with the clock, so the route's own cost is the cold one.
 */
async function coldRequestCache(): Promise<void> {
  await big!.client.indices.clearCache({ index: INDEX, request: true });
}

export const flowsData1M: Benchmark = {
  name: 'flows page data over 1M flows (Elasticsearch route, local-store route)',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    const node = await startNode({ name: `bench-flows-${process.pid}`, heap: '2g', ownerPid: process.pid });
    // an aggregation over a million flows on a busy machine can take longer than the client's default 30 s
    const client = testClient(node, { requestTimeout: 300_000 });
    const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--es', node.url, '--core-only'], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
    if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
    const dir = mkdtempSync(join(tmpdir(), 'provmon-bench-flows-'));
    const docs = await fill(client, dir);
    const local = LocalStoreSource.open(dir);
    const store: ProvmonStore = { source: local, where: dir, descriptor: { type: 'local' }, info: async () => local.info() };
    big = { dir, node, client, local, store, docs };
    flowsData1M.note = `${FLOWS.toLocaleString('en')} flows (${docs.toLocaleString('en')} documents with the periodic reports) over 24 h; ES: one shard, 2 GB heap; targets ≤ 1000 ms each`;
  },
  teardown: async () => {
    if (!big) return;
    big.local.close();
    await big.client.close();
    await big.node.stop();
    rmSync(big.dir, { recursive: true, force: true });
    big = undefined;
  },
  baseline: {
    label: 'Elasticsearch: count the final flow reports (size-0 search)',
    measure: async () => {
      await coldRequestCache();
      const start = Bun.nanoseconds();
      const r = await big!.client.count({ index: INDEX, query: { bool: { filter: flowFilterClauses({}) } } as never });
      if (r.count !== FLOWS) throw new Error(`counted ${r.count} flows`);
      return (Bun.nanoseconds() - start) / 1e6;
    },
  },
  cases: [
    {
      label: 'Elasticsearch route: every chart, scatter and top-100 table (aggregations; request cache cleared)',
      measure: async () => {
        await coldRequestCache();
        const start = Bun.nanoseconds();
        const a = await esFlowsAnswer(big!.client, {}, REQUEST, INDEX);
        if (a.totals.flows !== FLOWS) throw new Error(`answered ${a.totals.flows} flows`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'Elasticsearch route, the same request again (size-0 searches from the shard request cache)',
      measure: async () => {
        await esFlowsAnswer(big!.client, {}, REQUEST, INDEX);
        const start = Bun.nanoseconds();
        const a = await esFlowsAnswer(big!.client, {}, REQUEST, INDEX);
        if (a.totals.flows !== FLOWS) throw new Error(`answered ${a.totals.flows} flows`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: "local-store route: the same answer from the index's flow table",
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = big!.local.flowsAnswer({}, REQUEST, MAX_FLOW_SCAN);
        if (a.totals.flows !== FLOWS) throw new Error(`answered ${a.totals.flows} flows (scan ${JSON.stringify(a.scan)})`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'local-store route, a 17 h window whose edges fall inside hours (pre-summed hours + the edge hours\' flows)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = big!.local.flowsAnswer(WINDOW, REQUEST, MAX_FLOW_SCAN);
        if (a.totals.flows === 0 || a.totals.flows >= FLOWS) throw new Error(`answered ${a.totals.flows} flows`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'local-store route filtered by transport (the flow table\'s rows aggregated one by one, the path before for every request)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = big!.local.flowsAnswer({ transport: 'tcp' }, REQUEST, MAX_FLOW_SCAN);
        if (a.totals.flows === 0) throw new Error('answered no flows');
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'overview route over the same store, from the index (rollup + edge minutes)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = overviewAnswer(DAY, big!.local.overviewCounts(DAY));
        if (a.total !== big!.docs) throw new Error(`counted ${a.total} of ${big!.docs} documents`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'overview route over the same store, reading the window (the path before)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = overviewAnswer(DAY, await readOverviewCounts(big!.local, DAY));
        if (a.total !== big!.docs) throw new Error(`counted ${a.total} of ${big!.docs} documents`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
    {
      label: 'local store, reading every flow document through the engine source (the path before)',
      measure: async () => {
        const start = Bun.nanoseconds();
        const a = await localFlowsAnswer(big!.store, {}, REQUEST);
        if (a.totals.flows !== FLOWS) throw new Error(`answered ${a.totals.flows} flows (scan ${JSON.stringify(a.scan)})`);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
  ],
};

const CHARTS = 13;
let draw: { dir: string; store: UiStore; ui: RunningUi; base: string; browser: Browser; page: Page } | undefined;

export const flowsRender: Benchmark = {
  name: 'Flows page: URL to every vega chart drawn in Chromium',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provmon-bench-flows-draw-'));
    const writer = new LocalStore({ dir });
    for (const d of syntheticFlows({ flows: 20_000, start: START, spanMs: SPAN })) writer.write(d);
    writer.close();
    const store = openUiStore({ kind: 'local', dir }, () => undefined);
    const target = KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!;
    const ui = startUiServer({ host: '127.0.0.1', port: 0, assets: await loadAssets(target), store });
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    draw = { dir, store, ui, base: ui.url.replace('/app/provmon', ''), browser, page };
    flowsRender.note = `20,000 flows over 24 h in a local store; ${CHARTS} vega-lite charts (SVG, expression interpreter), a scatter of 10,000 points; Chromium, Kibana ${target.kibanaVersion} shared deps; target ≤ 1500 ms`;
  },
  teardown: async () => {
    if (!draw) return;
    await draw.browser.close();
    await draw.ui.stop();
    await draw.store.close();
    rmSync(draw.dir, { recursive: true, force: true });
    draw = undefined;
  },
  baseline: {
    label: 'the flows route alone (HTTP, JSON parsed)',
    measure: async () => {
      const start = Bun.nanoseconds();
      await (await fetch(`${draw!.base}/api/provmon/flows?from=2026-01-01T00:00:00Z`)).json();
      return (Bun.nanoseconds() - start) / 1e6;
    },
  },
  cases: [
    {
      label: 'URL → every chart drawn (page, route, vega-lite compile, vega interpreter, SVG)',
      measure: async () => {
        const d = draw!;
        await d.page.goto('about:blank');
        const start = Bun.nanoseconds();
        await d.page.goto(`${d.ui.url}/flows?from=2026-01-01T00:00:00Z`, { waitUntil: 'domcontentloaded' });
        await d.page.waitForFunction((n) => document.querySelectorAll('[data-test-subj^="provmonFlowChart-"][data-rendered="true"]').length === n, { timeout: 120_000, polling: 20 }, CHARTS);
        return (Bun.nanoseconds() - start) / 1e6;
      },
    },
  ],
};
