/**
 * The acceptance walk-through over a capture by the REAL sensor (root, eBPF) of the loopback attack
 * scenario (test/support/attack-scenario.ts), in Chromium through `provmon ui`, under each supported Kibana line's
 * shared deps: trace backward from the exfiltration endpoint, find the chain (curl, the dropped script, /etc/shadow,
 * the listener) in the node table, export a PNG, filter the events app by process and action, click through to a
 * graph. Screenshots: .cache/artifacts/ui/attack-<line>-*.png.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, rmSync } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { captureAttack, type Scenario } from '../../../test/support/attack-scenario.ts';
import { launchBrowser, startUi, type RunningUi } from '../../../test/support/browser.ts';
import { walkThrough } from './testdata/walkthrough.ts';

setDefaultTimeout(300_000);

const isRoot = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');

describe.skipIf(!isRoot)('provmon ui over a real-sensor capture of the attack, in Chromium (root, kernel BPF)', () => {
  let run: Scenario;
  let browser: Browser;
  const runs: Scenario[] = [];
  const running: RunningUi[] = [];

  beforeAll(async () => {
    run = await captureAttack(runs);
    browser = await launchBrowser();
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    for (const ui of running) await ui.stop();
    for (const r of runs) {
      rmSync(r.work, { recursive: true, force: true });
      rmSync(r.eventsDir, { recursive: true, force: true });
    }
  });

  test('the capture holds the attack (the listener got the secret)', () => {
    expect(run.received).toBeGreaterThan(0);
  });

  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps: the chain in the provenance app, PNG, events, click-through`, async () => {
      const ui = await startUi(['--events-dir', run.eventsDir, '--kibana', target.kibanaVersion]);
      running.push(ui);
      const result = await walkThrough(
        browser,
        ui.url,
        {
          poi: `ip:127.0.0.1:${run.listenerPort}`,
          nodes: [run.dropped, '/etc/shadow', `127.0.0.1:${run.listenerPort}`, 'curl['],
          processName: 'curl',
          action: 'connection_attempted',
        },
        `attack-${target.line}`,
      );
      expect(result.reactVersion).toBe(target.react);
    });
  }
});
