/**
 * The Flows page over a live loopback capture by the real sensor (root: eBPF for the processes behind flows, libpcap
 * on lo), in Chromium through `provmon ui` under provmon ui's CSP (no unsafe-eval): every chart draws, no CSP
 * violation or page error, the top-100 table re-sorts through the route, and a flow's process opens its provenance
 * graph. Screenshot: .cache/artifacts/ui/flows-<line>.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, rmSync } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { ENV } from '../../../test/support/attack-scenario.ts';
import { launchBrowser, openPage, screenshot, startUi, tableRows, type RunningUi } from '../../../test/support/browser.ts';
import { startSensor } from '../../../test/support/sensor.ts';

setDefaultTimeout(300_000);

const isRoot = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');
const CHARTS = ['protocols', 'traffic', 'flows_over_time', 'sources', 'destinations', 'ports_by_flows', 'ports_by_bytes', 'durations', 'scatter', 'tcp_flags', 'heatmap', 'domains', 'processes'];

/** Loopback traffic of several kinds: HTTP served and fetched by python3 and curl, UDP datagrams, refused connects. */
const TRAFFIC_PY = `
import http.server, socket, subprocess, threading
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
srv.RequestHandlerClass.log_message = lambda *a: None
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
import urllib.request
for i in range(6): urllib.request.urlopen(f"http://127.0.0.1:{port}/").read()
for i in range(4): subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"], check=True)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in (9999, 5353, 12345): u.sendto(b"x" * 200, ("127.0.0.1", p))
for p in (1, 7, 9): 
    s = socket.socket()
    try: s.connect(("127.0.0.1", p))
    except OSError: pass
    s.close()
srv.shutdown()
print(port)
`;

describe.skipIf(!isRoot)('the Flows page over a live loopback capture, in Chromium (root, kernel BPF, libpcap)', () => {
  let eventsDir: string;
  let httpPort: number;
  let flows: EcsEvent[];
  let browser: Browser;
  const running: RunningUi[] = [];

  beforeAll(async () => {
    const sensor = await startSensor({ pcapInterface: 'lo', args: ['--duration', '60'] });
    eventsDir = sensor.eventsDir;
    const traffic = Bun.spawnSync(['python3', '-c', TRAFFIC_PY], { env: ENV, cwd: eventsDir });
    if (traffic.exitCode !== 0) throw new Error(`traffic failed: ${traffic.stderr.toString()}`);
    httpPort = Number(traffic.stdout.toString().trim());
    await Bun.sleep(500);
    await sensor.stop();
    flows = sensor.events('pcap-flows');
    browser = await launchBrowser();
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    for (const ui of running) await ui.stop();
    if (eventsDir) rmSync(eventsDir, { recursive: true, force: true });
  });

  test('the capture holds the HTTP flows, some with the process that made them', () => {
    const http = flows.filter((f) => f.destination?.port === httpPort && f.provmon?.flow?.final);
    expect(http.length).toBeGreaterThanOrEqual(10);
    expect(flows.some((f) => f.process?.name === 'curl')).toBe(true);
  });

  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps: every chart draws under the CSP; table sorts; flow → graph`, async () => {
      const ui = await startUi(['--events-dir', eventsDir, '--kibana', target.kibanaVersion]);
      running.push(ui);
      const { page, log } = await openPage(browser);
      try {
        await page.goto(`${ui.url}/flows?from=2000-01-01T00:00:00Z&interval=1m`, { waitUntil: 'domcontentloaded' });
        for (const id of CHARTS) {
          await page.waitForSelector(`[data-test-subj="provmonFlowChart-${id}"][data-rendered="true"] ${id === 'scatter' ? 'canvas' : 'svg'}`, { timeout: 60_000 });
        }
        // each SVG chart drew marks, not just axes; the scatter (canvas) drew pixels
        const marks = await page.$$eval('[data-test-subj^="provmonFlowChart-"] svg', (svgs) => svgs.map((s) => s.querySelectorAll('path, rect, circle, .mark-symbol path').length));
        expect(marks).toHaveLength(CHARTS.length - 1);
        for (const n of marks) expect(n).toBeGreaterThan(2);
        const inked = await page.$eval('[data-test-subj="provmonFlowChart-scatter"] canvas', (c) => {
          const canvas = c as HTMLCanvasElement;
          const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
          return n;
        });
        expect(inked).toBeGreaterThan(100);
        const summary = await page.$eval('[data-test-subj="provmonFlowsSummary"]', (e) => e.textContent ?? '');
        expect(summary).toMatch(/^\d+ flows/);
        const rows = await tableRows(page, 'provmonFlowTable');
        expect(rows.some((r) => r.some((c) => c.includes(`127.0.0.1:${httpPort}`)))).toBe(true);
        await screenshot(page, `flows-${target.line}`);

        // sort by packets: the route re-sorts over every flow (the URL carries it). EUI 104 may lay the table out as
        // cards (no header to click) depending on its breakpoint reading: then the sort goes through the URL itself.
        const header = await page.$('[data-test-subj="provmonFlowTable"] thead th:nth-child(8) button');
        if (header && (await header.boundingBox())) await header.click();
        else {
          const url = new URL(page.url());
          url.searchParams.set('sort', 'packets');
          await page.goto(url.href);
        }
        await page.waitForFunction(() => location.search.includes('sort=packets'), { timeout: 30_000 });
        await page.waitForFunction(() => document.querySelector('[data-test-subj="provmonFlowTable"] caption')?.textContent?.includes('packets'), { timeout: 30_000 });

        // a flow's process → its provenance graph
        await page.click('[data-test-subj="provmonFlowGraphLink"]');
        await page.waitForFunction(() => location.pathname.endsWith('/provenance') && location.search.includes('poi=process'), { timeout: 30_000 });
        await page.waitForSelector('[data-test-subj="provmonNodeTable"] tbody tr td', { timeout: 60_000 });
        expect(log.csp).toEqual([]);
        expect(log.errors).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }
});
