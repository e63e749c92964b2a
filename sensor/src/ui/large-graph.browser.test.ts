/**
 * A large provenance graph (over 600 nodes and edges) in Chromium, under each supported Kibana line's shared deps:
 * laid out left to right before cytoscape starts, one line per pair of nodes, the whole graph fitted in the canvas,
 * node labels only once the zoom makes them readable, and the tables, details and PNG export as for small graphs.
 * The cytoscape instance is read from cytoscape's own registry on its container (no hook in the plugin).
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { EdgeSingular, NodeSingular } from 'cytoscape';
import type { Page } from 'puppeteer-core';
import type { GraphOutput } from '../../../kibana-plugin/common/graph/request.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { browserSuite, openPage, refuseBlobWorkers, screenshot, startUi, type RunningUi } from '../../../test/support/browser.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { LocalStore } from '../output/local/local-store.ts';

setDefaultTimeout(240_000);

const w = syntheticWorkload({ seed: 3, packages: 12, filesPerPackage: 25, requests: 12 });
const dir = tempDir('provmon-ui-large-');
{
  const store = new LocalStore({ dir });
  for (const e of w.events) store.write(e);
  store.close();
}
const installer = w.events.find((e) => e.event.action === 'exec' && e.process?.args?.includes('/usr/bin/npm'))!;
const query = new URLSearchParams({ poi: `process:${installer.process!.entity_id}`, direction: 'forward', reduce: 'false' }).toString();

const { browser, running } = browserSuite(removeTempDirs);

interface Drawn {
  nodes: number;
  edges: number;
  pairs: string[];
  leftToRight: boolean;
  inside: boolean;
  zoom: number;
  /** node id → its position, rounded */
  positions: Record<string, string>;
}

async function drawnGraph(page: Page, nodes: number): Promise<Drawn> {
  await page.waitForFunction(
    (n) => (document.querySelector('[data-test-subj="provmonNodeTable"] caption')?.textContent ?? '').includes(`(${n})`) && !!document.querySelector('[data-test-subj="provmonGraphCanvas"] canvas'),
    { timeout: 120_000 },
    nodes,
  );
  return page.$eval('[data-test-subj="provmonGraphCanvas"]', (el): Drawn => {
    const cy = (el as unknown as { _cyreg: { cy: import('cytoscape').Core } })._cyreg.cy;
    const w = cy.width();
    const h = cy.height();
    return {
      nodes: cy.nodes().length,
      edges: cy.edges().length,
      pairs: cy.edges().map((e) => `${e.source().id()} -> ${e.target().id()}`).sort(),
      leftToRight: cy.edges().toArray().every((e) => (e as EdgeSingular).source().position('x') < (e as EdgeSingular).target().position('x')),
      inside: cy.nodes().toArray().every((n) => {
        const p = (n as NodeSingular).renderedPosition();
        return p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h;
      }),
      zoom: cy.zoom(),
      positions: Object.fromEntries(cy.nodes().map((n) => [n.id(), `${Math.round(n.position('x'))},${Math.round(n.position('y'))}`])),
    };
  });
}

/** The positions of the graph drawn under each Kibana line (the layout worker's), for the main-thread fallback. */
const drawnBy = new Map<string, Drawn>();

describe('a large provenance graph in Chromium', () => {
  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps: one line per node pair, fitted, labels once readable, tables, details and PNG`, async () => {
      const ui = await startUi(['--events-dir', dir, '--kibana', target.kibanaVersion]);
      running.push(ui);
      const graph = (await (await fetch(`${ui.url.replace('/app/provmon', '')}/api/provmon/graph?${query}`)).json()) as GraphOutput;
      expect(graph.nodes.length + graph.edges.length).toBeGreaterThan(600);
      const pairs = [...new Set(graph.edges.map((e) => `${e.source} -> ${e.target}`))].sort();
      expect(pairs.length).toBeLessThan(graph.edges.length);

      const { page, log } = await openPage(browser());
      await page.goto(`${ui.url}/provenance?${query}`);
      const drawn = await drawnGraph(page, graph.nodes.length);
      drawnBy.set(target.kibanaVersion, drawn);
      // laid out off the main thread: the page runs the layout worker
      expect(page.workers().length).toBe(1);
      expect(drawn.nodes).toBe(graph.nodes.length);
      expect(drawn.edges).toBe(pairs.length);
      expect(drawn.pairs).toEqual(pairs);
      expect(drawn.leftToRight).toBe(true);
      expect(drawn.inside).toBe(true);

      const labels = (zoom: number) =>
        page.$eval(
          '[data-test-subj="provmonGraphCanvas"]',
          (el, z) => {
            const cy = (el as unknown as { _cyreg: { cy: import('cytoscape').Core } })._cyreg.cy;
            if (z > 0) cy.zoom(z);
            return cy.nodes().filter((n) => n.style('label') !== '').length;
          },
          zoom,
        );
      // Fitted, a node's 9px label is drawn below 8px on screen: no labels; zoomed in, every node has its label.
      expect(drawn.zoom * 9).toBeLessThan(8);
      expect(await labels(0)).toBe(0);
      expect(await labels(2)).toBe(graph.nodes.length);
      expect(await labels(drawn.zoom)).toBe(0);

      // The first row of the node table (its rows are paged) opens that node's details.
      const first = await page.$eval('[data-test-subj="provmonNodeRow"]', (row) => {
        (row as HTMLElement).click();
        return (row.querySelectorAll('td')[1]?.textContent ?? '').replace(/[\u21a6\u21b5]/g, '').replace(/^Node/, '').trim();
      });
      expect(graph.nodes.some((n) => n.label === first)).toBe(true);
      await page.waitForFunction((label) => document.querySelector('[data-test-subj="provmonNodeDetails"] h3')?.textContent === label, { timeout: 10_000 }, first);
      await page.click('[data-test-subj="provmonExportPng"]');
      const href = await page.waitForSelector('[data-test-subj="provmonPngLink"]', { timeout: 30_000 }).then((a) => a!.evaluate((x) => (x as HTMLAnchorElement).href));
      const png = await page.evaluate(async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer()).slice(0, 8).join(','), href);
      expect(png).toBe('137,80,78,71,13,10,26,10');
      await screenshot(page, `large-graph-${target.line}`);
      expect(log.errors).toEqual([]);
      expect(log.csp).toEqual([]);
      await page.close();
    });
  }

  const last = KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!;
  test(`a CSP that refuses blob: workers (Kibana ${last.kibanaVersion} shared deps): the same drawing, laid out on the main thread`, async () => {
    const ui = await startUi(['--events-dir', dir, '--kibana', last.kibanaVersion]);
    running.push(ui);
    const { page, log } = await openPage(browser());
    await refuseBlobWorkers(page);
    await page.goto(`${ui.url}/provenance?${query}`);
    const drawn = await drawnGraph(page, drawnBy.get(last.kibanaVersion)!.nodes);
    expect(page.workers()).toHaveLength(0);
    expect(log.csp.some((m) => /worker-src/.test(m))).toBe(true);
    expect(log.errors).toEqual([]);
    expect(drawn).toEqual(drawnBy.get(last.kibanaVersion)!);
    await page.close();
  });
});
