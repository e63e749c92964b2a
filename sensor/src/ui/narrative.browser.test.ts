/**
 * The provenance page's Narrative button in Chromium through `provmon ui`, under each supported Kibana line's
 * shared deps, over the committed real-sensor capture (testdata/narrative-capture.jsonl). The model endpoint is a
 * small HTTP server this test runs, speaking the Ollama wire format (a test of provmon's client and page, no model
 * runs here): pressed from the keyboard, the button shows the deterministic summary and a spinner at once, then
 * the model's text with its model name; a new graph shows no narrative of the old one; with the endpoint down the
 * summary stands with the reason. No CSP violation and no page error anywhere.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { launchBrowser, openPage, screenshot, startUi, type RunningUi } from '../../../test/support/browser.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { CAPTURE_FILE, capturePoi } from './testdata/make-narrative-capture.ts';

setDefaultTimeout(240_000);

const MODEL_TEXT = 'A shell ran python3, which sent /etc/hostname to a listener on 127.0.0.1.';
const dir = tempDir('provmon-narrative-browser-');
copyFileSync(CAPTURE_FILE, join(dir, 'forensic-events.jsonl'));
const poi = capturePoi();

let browser: Browser;
let model: ReturnType<typeof Bun.serve>;
let closedPort: number;
let asked = 0;
const running: RunningUi[] = [];

beforeAll(async () => {
  model = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      asked++;
      await req.text();
      // Slow enough for the page to show its spinner first.
      await Bun.sleep(1500);
      return Response.json({ model: 'tiny', message: { role: 'assistant', content: MODEL_TEXT }, done: true });
    },
  });
  const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
  closedPort = closed.port as number;
  await closed.stop(true);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const ui of running) await ui.stop();
  await model?.stop(true);
  removeTempDirs();
});

async function ui(version: string, url: string): Promise<RunningUi> {
  const r = await startUi(['--events-dir', dir, '--kibana', version], { PROVMON_NARRATIVE__URL: url, PROVMON_NARRATIVE__MODEL: 'tiny', PROVMON_NARRATIVE__TIMEOUT_S: '30' });
  running.push(r);
  return r;
}

async function openGraph(page: Page, appUrl: string, direction: string): Promise<void> {
  await page.goto(`${appUrl}/provenance?${new URLSearchParams({ poi, direction })}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('[data-test-subj="provmonNodeTable"] tbody tr td', { timeout: 60_000 });
}

const text = (page: Page, subj: string) => page.$eval(`[data-test-subj="${subj}"]`, (e) => e.textContent ?? '');

describe('the Narrative button in Chromium (client test against a local Ollama wire-format server, no model)', () => {
  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps (React ${target.react}, EUI ${target.eui}): keyboard, summary at once, spinner, model text; no leak to the next graph`, async () => {
      const app = await ui(target.kibanaVersion, `http://127.0.0.1:${model.port}`);
      const { page, log } = await openPage(browser);
      try {
        await openGraph(page, app.url, 'backward');
        expect(await page.$('[data-test-subj="provmonNarrative"]')).toBeNull();
        const before = asked;
        await page.focus('[data-test-subj="provmonNarrate"]');
        await page.keyboard.press('Enter');
        // At once: the deterministic summary, and the spinner while the model is asked.
        await page.waitForSelector('[data-test-subj="provmonNarrativeWaiting"]', { timeout: 10_000 });
        const summary = await text(page, 'provmonNarrativeSummary');
        expect(summary).toContain('python3');
        expect(summary).toContain(poi.slice(3));
        expect(await page.$eval('[data-test-subj="provmonNarrative"]', (e) => e.getAttribute('aria-busy'))).toBe('true');
        await screenshot(page, `narrative-${target.line}-waiting`);
        await page.waitForSelector('[data-test-subj="provmonNarrativeText"]', { timeout: 30_000 });
        expect(await text(page, 'provmonNarrativeText')).toBe(MODEL_TEXT);
        expect(await text(page, 'provmonNarrativeModel')).toContain('Model tiny');
        expect(await text(page, 'provmonNarrativeSummary')).toBe(summary);
        expect(await text(page, 'provmonNarrativeStatus')).toBe('Narrative by tiny');
        expect(await page.$('[data-test-subj="provmonNarrativeWaiting"]')).toBeNull();
        expect(asked).toBe(before + 1);
        await screenshot(page, `narrative-${target.line}-answered`);

        // Another graph (traced from the form): none of the first graph's narrative is shown with it.
        await page.select('[data-test-subj="provmonDirection"]', 'both');
        await page.click('[data-test-subj="provmonTrace"]');
        await page.waitForFunction(() => (document.querySelector('[data-test-subj="provmonGraphStats"]')?.textContent ?? '').includes(', both:'), { timeout: 60_000 });
        expect(await page.$('[data-test-subj="provmonNarrative"]')).toBeNull();
        expect(await text(page, 'provmonNarrativeStatus')).toBe('');
        expect(log.csp).toEqual([]);
        expect(log.errors).toEqual([]);
      } finally {
        await page.close();
      }
    });

    test(`Kibana ${target.kibanaVersion} shared deps: endpoint down, the summary stands with the reason`, async () => {
      const app = await ui(target.kibanaVersion, `http://127.0.0.1:${closedPort}`);
      const { page, log } = await openPage(browser);
      try {
        await openGraph(page, app.url, 'backward');
        await page.click('[data-test-subj="provmonNarrate"]');
        await page.waitForSelector('[data-test-subj="provmonNarrativeReason"]', { timeout: 30_000 });
        expect(await text(page, 'provmonNarrativeSummary')).toContain('python3');
        const reason = await text(page, 'provmonNarrativeReason');
        expect(reason).toContain('No model narrative: the summary is the account');
        expect(reason).toContain(`http://127.0.0.1:${closedPort}/api/chat: `);
        expect(await page.$('[data-test-subj="provmonNarrativeText"]')).toBeNull();
        await screenshot(page, `narrative-${target.line}-endpoint-down`);
        expect(log.csp).toEqual([]);
        expect(log.errors).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
