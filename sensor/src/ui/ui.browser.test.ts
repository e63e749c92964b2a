/**
 * `provmon ui` in Chromium, under each supported Kibana line's shared deps, over a local store holding the
 * engine's synthetic workload (its attack chain is known in advance): open the provenance app from a URL, trace
 * backward from the exfiltration endpoint, find the chain in the node table, export a PNG, use the events app's
 * filters and click through to a graph, see a bad point of interest as a toast (never a blank page), and no CSP
 * violation anywhere (the page is served with a CSP as strict as Kibana's). The same steps over a capture by the
 * real sensor run in ui-attack.kernel.browser.test.ts, and over Elasticsearch in ui.es.browser.test.ts.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { KIBANA_TARGETS } from '../../../kibana-plugin/versions.ts';
import { browserSuite, startUi, type RunningUi } from '../../../test/support/browser.ts';
import { removeTempDirs, tempDir } from '../graph/testdata/tmp.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { walkThrough, type Chain } from './testdata/walkthrough.ts';

setDefaultTimeout(240_000);

const w = syntheticWorkload({ seed: 21, packages: 8, filesPerPackage: 8, requests: 8 });
const attack = w.attack!;
const dir = tempDir('provmon-ui-browser-');
{
  const store = new LocalStore({ dir });
  for (const e of w.events) store.write(e);
  store.close();
}

const chain: Chain = {
  poi: `ip:${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`,
  nodes: [attack.dropped, attack.secret, `${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`, `[${attack.payload.pid}]`, `curl[${attack.downloader.pid}]`],
  processName: 'curl',
  action: 'connection_attempted',
};

const { browser, running } = browserSuite(removeTempDirs);

describe('provmon ui in Chromium over the local store', () => {
  for (const target of KIBANA_TARGETS) {
    test(`Kibana ${target.kibanaVersion} shared deps (React ${target.react}, EUI ${target.eui}): provenance, PNG, events, click-through, errors as toasts`, async () => {
      const ui = await startUi(['--events-dir', dir, '--kibana', target.kibanaVersion]);
      running.push(ui);
      const result = await walkThrough(browser(), ui.url, chain, `synthetic-${target.line}`);
      expect(result.reactVersion).toBe(target.react);
      expect(result.euiLoaded).toBe(true);
    });
  }
});
