/**
 * Debian's Chromium driven by puppeteer-core (no browser download), for the `*.browser.test.ts` files; and
 * `provmon ui` started as users start it, on a free loopback port. Screenshots go to .cache/artifacts/ui/
 * (gitignored), kept after the run as test artifacts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'bun:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { readFirstLine, within } from './scenario.ts';

const ROOT = resolve(import.meta.dir, '../..');
export const ARTIFACTS = join(ROOT, '.cache', 'artifacts', 'ui');

export function chromiumPath(): string {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  throw new Error('Chromium is not installed: run bash scripts/ensure.sh test (Debian package chromium)');
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/**
 * One Chromium for a test file and the `provmon ui` servers its tests start (push them on `running`): launched before
 * the file's tests, closed and stopped after them, then `cleanup` (e.g. the file's temporary directories).
 */
export function browserSuite(cleanup?: () => void): { browser(): Browser; running: RunningUi[] } {
  let browser: Browser | undefined;
  const running: RunningUi[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const ui of running) await ui.stop();
    cleanup?.();
  });
  return {
    browser: () => {
      if (!browser) throw new Error('the browser is launched in beforeAll: call browser() inside a test');
      return browser;
    },
    running,
  };
}

export interface PageLog {
  errors: string[];
  /** CSP violations the page reported */
  csp: string[];
}

export async function openPage(browser: Browser): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const log: PageLog = { errors: [], csp: [] };
  page.on('pageerror', (e) => log.errors.push((e as Error).message));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|unsafe-eval/i.test(text)) log.csp.push(text);
    else if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) log.errors.push(text);
  });
  return { page, log };
}

/**
 * The page's documents served with a CSP whose worker-src leaves out blob: (as a Kibana with a stricter
 * csp.worker_src would), everything else as the server sent it: the provenance layout then runs on the main thread.
 */
export async function refuseBlobWorkers(page: Page): Promise<void> {
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (!r.isNavigationRequest()) return void r.continue();
    void fetch(r.url(), { headers: r.headers() }).then(async (res) => {
      const headers = Object.fromEntries(res.headers);
      const csp = headers['content-security-policy'] ?? '';
      if (!csp.includes("worker-src 'self' blob:")) throw new Error(`the page's CSP has no worker-src 'self' blob: to take blob: out of: ${csp}`);
      headers['content-security-policy'] = csp.replace("worker-src 'self' blob:", "worker-src 'self'");
      await r.respond({ status: res.status, headers, body: await res.text() });
    });
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Texts of the cells of a table found by its data-test-subj, row by row (without EUI's copy markers ↦ ↵). */
export function tableRows(page: Page, subj: string): Promise<string[][]> {
  // EUI tables render their first frame in mobile layout (the breakpoint hook starts false and is set in an effect),
  // which puts each column's name inside its cells; a read in that frame would see "Events46", so the mobile headers
  // and EUI's copy markers are taken out rather than waited for.
  return page.$$eval(`[data-test-subj="${subj}"] tbody tr`, (rows) =>
    rows.map((r) =>
      [...r.querySelectorAll('td')].map((td) => {
        const cell = td.cloneNode(true) as HTMLElement;
        for (const header of cell.querySelectorAll('.euiTableRowCell__mobileHeader')) header.remove();
        return (cell.textContent ?? '').replace(/[\u21a6\u21b5]/g, '').trim();
      }),
    ),
  );
}

export interface RunningUi {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
}

/** `provmon ui` in a subprocess; resolves once it printed its URL. */
export async function startUi(args: string[], env: Record<string, string> = {}): Promise<RunningUi> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))) as Record<string, string>;
  const proc = Bun.spawn([join(ROOT, 'bin/provmon'), 'ui', '--port', '0', ...args], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...clean, PROVMON_CONFIG: '', ...env } });
  const line = await within(readFirstLine(proc), 120_000, '');
  if (!line.startsWith('http://')) {
    proc.kill();
    const stderr = await new Response(proc.stderr as ReadableStream).text();
    throw new Error(`provmon ui did not start: ${stderr}`);
  }
  return {
    url: line,
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await within(proc.exited, 10_000, undefined);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}
