/**
 * The Offline analysis page in Chromium, under each supported Kibana line's shared deps, over `provmon ui` as
 * users start it: a committed capture and an audit log are chosen in the page's file inputs and uploaded, the job
 * runs, the summary shows curl owning its flows, and a click on curl in the top processes opens the provenance
 * graph of the case (the page's `case` follows the navigation); a file that is neither is refused with a toast
 * that quotes the server. No CSP violation and no page error anywhere.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ElementHandle } from 'puppeteer-core';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { browserSuite, openPage, screenshot, startUi, tableRows, type RunningUi } from '../../../test/support/browser.ts';
import { curlCaseAudit, LO_PCAPNG } from '../analyze/testdata/curl-case.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { LocalStore } from '../output/local/local-store.ts';

setDefaultTimeout(240_000);

const work = tempDir('provmon-offline-browser-');
const live = join(work, 'live');
mkdirSync(live);
new LocalStore({ dir: live }).close();
const auditPath = join(work, 'audit.log');
writeFileSync(auditPath, curlCaseAudit());
const notes = join(work, 'notes.txt');
writeFileSync(notes, 'meeting notes, not a log\n');

const { browser, running } = browserSuite(removeTempDirs);

describe('Offline analysis page in Chromium', () => {
  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps (React ${target.react}, EUI ${target.eui}): upload, summary, into the case's graph`, async () => {
      const ui = await startUi(['--events-dir', live, '--cases-dir', join(work, `cases-${target.line}`), '--kibana', target.kibanaVersion]);
      running.push(ui);
      const { page, log } = await openPage(browser());
      try {
        await page.goto(ui.url, { waitUntil: 'domcontentloaded' });
        await page.waitForSelector('[data-test-subj="provmonTab-offline"]', { timeout: 60_000 });
        await page.click('[data-test-subj="provmonTab-offline"]');
        await page.waitForSelector('[data-test-subj="provmonOffline"]');

        // a text file as an audit log: refused, the toast quotes the server
        const audit = (await page.$('input[data-test-subj="provmonOfflineAudit"]')) as ElementHandle<HTMLInputElement>;
        await audit.uploadFile(notes);
        await page.click('[data-test-subj="provmonOfflineUpload"]');
        await page.waitForSelector('[data-test-subj="provmonToastDanger"]', { timeout: 30_000 });
        const toast = await page.$eval('[data-test-subj="provmonToastDanger"]', (e) => e.textContent ?? '');
        expect(toast).toContain('notes.txt is neither a pcap/pcapng capture nor a Linux audit log');

        const capture = (await page.$('input[data-test-subj="provmonOfflineCapture"]')) as ElementHandle<HTMLInputElement>;
        await capture.uploadFile(LO_PCAPNG);
        await audit.uploadFile(auditPath);
        await page.click('[data-test-subj="provmonOfflineUpload"]');
        await page.waitForSelector('[data-test-subj="provmonOfflineSummary"]', { timeout: 60_000 });
        const caseId = await page.evaluate(() => new URLSearchParams(location.search).get('case'));
        expect(caseId).toMatch(/^[a-z0-9]{16}$/);
        const attributed = await page.$eval('[data-test-subj="provmonOfflineAttributed"]', (e) => e.textContent ?? '');
        // 2 flows by curl's connect, the other 24 by time (curl is the only process with network activity)
        expect(attributed).toContain('26 / 26');
        const top = await tableRows(page, 'provmonOfflineTopProcesses');
        expect(top[0]!.join(' | ')).toContain('curl (4242)');
        expect(top[0]!.join(' | ')).toContain('/usr/bin/curl');
        expect(await page.$eval('[data-test-subj="provmonOfflineSummary"]', (e) => e.textContent ?? '')).toContain('Unattributed flows (0)');
        await screenshot(page, `offline-${target.line}-summary`);

        // the case's overview, over the case's own time span (older than the pages' default window)
        await page.click('[data-test-subj="provmonCaseOverview"]');
        await page.waitForSelector('[data-test-subj="provmonOverview"]', { timeout: 30_000 });
        const overview = await page.$eval('[data-test-subj="provmonOverview"]', (e) => e.textContent ?? '');
        expect(overview).toContain('flow26');
        const sensors = await tableRows(page, 'provmonOverviewSensors');
        expect(sensors.map((r) => r.slice(0, 2))).toEqual([['offline', '46']]);
        await page.goBack();
        await page.waitForSelector('[data-test-subj="provmonOfflineSummary"]', { timeout: 30_000 });

        // curl in the top processes → its provenance graph in the case
        await page.click('[data-test-subj="provmonOfflineProcessLink"]');
        await page.waitForSelector('[data-test-subj="provmonNodeTable"] tbody tr td', { timeout: 60_000 });
        expect(await page.evaluate(() => location.pathname)).toBe('/app/provmon/provenance');
        expect(await page.evaluate(() => new URLSearchParams(location.search).get('case'))).toBe(caseId);
        await page.waitForSelector('[data-test-subj="provmonCaseBanner"]');
        const nodes = (await tableRows(page, 'provmonNodeTable')).map((r) => r.join(' | '));
        expect(nodes.some((r) => r.includes('curl'))).toBe(true);
        expect(nodes.some((r) => r.includes('127.0.80.1:8080'))).toBe(true);
        await screenshot(page, `offline-${target.line}-case-graph`);

        // the case follows the tabs, and the banner leads back to the live data
        await page.click('[data-test-subj="provmonTab-events"]');
        await page.waitForFunction(() => location.pathname.endsWith('/events') && location.search.includes('case='));
        await page.click('[data-test-subj="provmonLeaveCase"]');
        await page.waitForFunction(() => !location.search.includes('case='));
        expect(log.csp).toEqual([]);
        expect(log.errors).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
