/**
 * The browser walk-through the issue asks for, shared by the ui browser tests (synthetic store, real-sensor
 * capture, Elasticsearch): every step asserts what a person would check, and saves a screenshot.
 */
import { expect } from 'bun:test';
import type { Browser, Page } from 'puppeteer-core';
import { openPage, screenshot, tableRows } from '../../../../test/support/browser.ts';

export interface Chain {
  /** the point of interest to trace backward from */
  poi: string;
  /** substrings that must each appear in some row of the node table */
  nodes: string[];
  /** an events filter that must match: process name and action */
  processName: string;
  action: string;
}

export interface WalkResult {
  reactVersion: string;
  euiLoaded: boolean;
  screenshots: string[];
}

async function waitRows(page: Page, subj: string): Promise<string[][]> {
  await page.waitForSelector(`[data-test-subj="${subj}"] tbody tr td`, { timeout: 60_000 });
  return tableRows(page, subj);
}

export async function walkThrough(browser: Browser, appUrl: string, chain: Chain, name: string): Promise<WalkResult> {
  const { page, log } = await openPage(browser);
  const shots: string[] = [];
  try {
    // 1. The provenance app straight from a URL (a shared link).
    const q = new URLSearchParams({ poi: chain.poi, direction: 'backward' });
    await page.goto(`${appUrl}/provenance?${q}`, { waitUntil: 'domcontentloaded' });
    const nodes = await waitRows(page, 'provmonNodeTable');
    const nodeText = nodes.map((r) => r.join(' | '));
    for (const n of chain.nodes) expect({ node: n, found: nodeText.some((row) => row.includes(n)) }).toEqual({ node: n, found: true });
    // the attack path is marked in the table, and the canvas drew something
    expect(nodes.some((r) => r.some((cell) => cell.endsWith('yes')))).toBe(true);
    await page.waitForSelector('[data-test-subj="provmonGraphCanvas"] canvas');
    const stats = await page.$eval('[data-test-subj="provmonGraphStats"]', (e) => e.textContent ?? '');
    expect(stats).toMatch(/\d+ nodes and \d+ edges \(before reduction \d+ nodes, \d+ edges\)/);
    const edges = await waitRows(page, 'provmonEdgeTable');
    expect(edges.length).toBeGreaterThan(0);
    shots.push(await screenshot(page, `${name}-provenance`));

    // 2. Node details: a click on a node-table row.
    await page.click('[data-test-subj="provmonNodeTable"] tbody tr');
    await page.waitForSelector('[data-test-subj="provmonNodeDetails"]');

    // 3. PNG export: a real image, not an empty file.
    await page.click('[data-test-subj="provmonExportPng"]');
    await page.waitForSelector('[data-test-subj="provmonPngLink"]');
    const png = await page.$eval('[data-test-subj="provmonPngLink"]', async (a) => {
      const bytes = new Uint8Array(await (await fetch((a as HTMLAnchorElement).href)).arrayBuffer());
      return { size: bytes.length, head: [...bytes.slice(0, 8)], width: (bytes[16]! << 24) | (bytes[17]! << 16) | (bytes[18]! << 8) | bytes[19]! };
    });
    expect(png.head).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.size).toBeGreaterThan(5000);
    expect(png.width).toBeGreaterThan(100);

    // 4. The events app: filter by process and action, then click through to that event's graph.
    await page.click('[data-test-subj="provmonTab-events"]');
    await page.waitForSelector('[data-test-subj="provmonEventsSummary"]', { timeout: 60_000 });
    await page.type('[data-test-subj="provmonFilter-process_name"]', chain.processName);
    await page.type('[data-test-subj="provmonFilter-action"]', chain.action);
    await page.type('[data-test-subj="provmonFilter-from"]', '2000-01-01');
    await page.click('[data-test-subj="provmonSearch"]');
    await page.waitForFunction((action) => location.search.includes(`action=${action}`), {}, chain.action);
    await page.waitForFunction(
      (action) => {
        const rows = [...document.querySelectorAll('[data-test-subj="provmonEventTable"] tbody tr')];
        return rows.length > 0 && rows.every((r) => (r.textContent ?? '').includes(action));
      },
      { timeout: 60_000 },
      chain.action,
    );
    const events = await tableRows(page, 'provmonEventTable');
    for (const row of events) expect(row.join(' ')).toContain(`${chain.processName}[`);
    const summary = await page.$eval('[data-test-subj="provmonEventsSummary"]', (e) => e.textContent ?? '');
    expect(summary).toMatch(new RegExp(`^${events.length} events · 1 actions`));
    shots.push(await screenshot(page, `${name}-events`));
    await page.click('[data-test-subj="provmonEventTable"] tbody tr td');
    await page.waitForFunction(() => location.pathname.endsWith('/provenance') && location.search.includes('poi=event%3A'), { timeout: 30_000 });
    const fromEvent = await waitRows(page, 'provmonNodeTable');
    expect(fromEvent.some((r) => r.join(' ').includes(`${chain.processName}[`))).toBe(true);
    shots.push(await screenshot(page, `${name}-event-graph`));

    // 5. A process chosen by name (pids are reused: the matches are listed with their start, one is picked).
    await page.type('[data-test-subj="provmonFindProcess"]', chain.processName);
    await page.click('[data-test-subj="provmonFindProcessButton"]');
    await page.waitForSelector('[data-test-subj="provmonFoundProcess"]', { timeout: 60_000 });
    const found = await page.$eval('[data-test-subj="provmonFoundProcess"]', (e) => e.textContent ?? '');
    expect(found.startsWith(`${chain.processName}[`)).toBe(true);
    await page.click('[data-test-subj="provmonFoundProcess"]');
    await page.waitForFunction(() => location.search.includes('poi=process%3A'), { timeout: 30_000 });
    await page.waitForFunction(
      (name) => [...document.querySelectorAll('[data-test-subj="provmonNodeTable"] tbody tr')].some((r) => (r.textContent ?? '').includes(`${name}[`)),
      { timeout: 60_000 },
      chain.processName,
    );

    // 6. A malformed point of interest: a toast naming the problem, and the app still there.
    await page.goto(`${appUrl}/provenance?poi=ip%3Anot-an-address`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-test-subj="provmonToastDanger"]', { timeout: 30_000 });
    const toast = await page.$eval('[data-test-subj="provmonToastDanger"]', (e) => e.textContent ?? '');
    expect(toast).toContain('poi');
    expect(toast).toContain('not an IP address');
    expect(await page.$('[data-test-subj="provmonTab-overview"]')).not.toBeNull();
    shots.push(await screenshot(page, `${name}-bad-poi`));

    // 7. The landing page.
    await page.click('[data-test-subj="provmonTab-overview"]');
    await page.waitForSelector('[data-test-subj="provmonOverview"]');
    shots.push(await screenshot(page, `${name}-overview`));

    const versions = await page.evaluate(() => {
      const deps = (window as unknown as { __kbnSharedDeps__: { React: { version: string }; ElasticEui: Record<string, unknown> } }).__kbnSharedDeps__;
      return { react: deps.React.version, eui: typeof deps.ElasticEui.EuiProvider === 'function' || typeof deps.ElasticEui.EuiProvider === 'object' };
    });
    expect(log.csp).toEqual([]);
    expect(log.errors).toEqual([]);
    return { reactVersion: versions.react, euiLoaded: versions.eui, screenshots: shots };
  } catch (error) {
    await screenshot(page, `${name}-failure`).catch(() => undefined);
    throw error;
  } finally {
    await page.close();
  }
}
