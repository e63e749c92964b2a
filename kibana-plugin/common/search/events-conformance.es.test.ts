/**
 * The events search three ways on the same documents: reading the window (the meaning: matchesFilter over what the
 * engine's Elasticsearch source returns), Elasticsearch aggregations with an exact page (es-events.ts, the real test
 * node with provmon's own templates from `provmon setup --core-only`), and the local store's counted index. Totals,
 * per-action counts, failures, distinct processes and hosts, and the page's events in order are equal.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { resolve } from 'node:path';
import { ElasticsearchSource } from '../../../sensor/src/graph/es-source.ts';
import { LocalStoreSource } from '../../../sensor/src/graph/local-source.ts';
import { comparable, eventsSearchDocs, eventsSearchQueries } from '../../../sensor/src/graph/testdata/events-search.ts';
import { removeTempDirs } from '../../../sensor/src/graph/testdata/tmp.ts';
import { testClient, testNode } from '../../../test/support/es.ts';
import { bulkIndex, localStoreOf } from '../../../test/support/same-docs.ts';
import type { EcsEvent } from '../ecs.ts';
import { esEventsAnswer } from './es-events.ts';
import { scanEvents } from './events.ts';

setDefaultTimeout(300_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `evsearch${process.pid}${Date.now().toString(36)}`;
const INDEX = `logs-provmon.*-${NS}`;
const docs: EcsEvent[] = eventsSearchDocs().map((e) => ({ ...e, data_stream: { ...e.data_stream, namespace: NS } }));
let client: Client;
let local: LocalStoreSource;

beforeAll(async () => {
  const node = await testNode('open');
  client = testClient(node);
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--es', node.url, '--core-only'], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
  await bulkIndex(client, docs, (e) => `logs-${e.data_stream.dataset}-${NS}`, INDEX);
  local = localStoreOf(docs, 'provmon-events-conf-');
});

afterAll(async () => {
  local?.close();
  removeTempDirs();
  await client?.close();
});

describe('events search: Elasticsearch aggregations, the local index and reading the window agree', () => {
  for (const { name, query } of eventsSearchQueries(docs)) {
    test(name, async () => {
      const source = new ElasticsearchSource(client, { index: INDEX });
      try {
        const read = comparable(await scanEvents(source, query));
        const aggregated = await esEventsAnswer(client, query, INDEX);
        expect(aggregated).toBeDefined();
        expect(comparable(aggregated!)).toEqual(read);
        expect(comparable(local.eventsAnswer(query)!)).toEqual(read);
      } finally {
        await source.close();
      }
    });
  }

  test('free text, and a page beyond the result window, are left to reading the window', async () => {
    expect(await esEventsAnswer(client, { window: {}, filter: { text: 'curl' }, sort: 'desc', size: 500, page: 0 }, INDEX)).toBeUndefined();
    expect(await esEventsAnswer(client, { window: {}, filter: {}, sort: 'desc', size: 5000, page: 2 }, INDEX)).toBeUndefined();
  });
});
