/**
 * The events search counted in the local store's index (rollup of whole minutes, edge minutes and the page from
 * `events`) answers exactly what reading the window and keeping what matchesFilter keeps answers, on one store:
 * totals, per-action counts, failures, distinct processes and hosts, and the page's events in order.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { scanEvents } from '../../../kibana-plugin/common/search/events.ts';
import { SEARCH_DATASETS } from '../../../kibana-plugin/common/search/filter.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { LocalStoreSource } from './local-source.ts';
import { comparable, eventsSearchDocs, eventsSearchQueries } from './testdata/events-search.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

const docs = eventsSearchDocs();

function storeOf(opts: { rotateBytes?: number } = {}): LocalStoreSource {
  const dir = tempDir('provmon-events-search-');
  const store = new LocalStore({ dir, ...opts });
  // Out of time order, as a sensor writes (aggregated I/O is emitted at close).
  for (const d of [...docs].reverse()) store.write(d);
  store.close();
  return LocalStoreSource.open(dir);
}

describe('the local store counts the events search in its index, with the answers of reading the window', () => {
  // Small files: counts of one minute are spread over several JSONL files (and rollup rows).
  const local = storeOf({ rotateBytes: 64 * 1024 });
  afterAll(() => local.close());

  for (const { name, query } of eventsSearchQueries(docs)) {
    test(name, async () => {
      const counted = local.eventsAnswer(query);
      expect(counted).toBeDefined();
      const read = await scanEvents(local, query);
      expect(comparable(counted!)).toEqual(comparable(read));
      // Only the page's documents are read.
      expect(counted!.scanned).toBe(counted!.events.length);
    });
  }

  test('the whole store is matched, and the answer is not a trivial one', async () => {
    const all = local.eventsAnswer({ window: {}, filter: {}, sort: 'desc', size: 5000, page: 0 })!;
    // flows are not searched (SEARCH_DATASETS)
    expect(all.total).toBe(docs.filter((d) => SEARCH_DATASETS.some((s) => d.event.dataset === `provmon.${s}`)).length);
    expect(all.total).toBeGreaterThan(1500);
    expect(all.summary.failures).toBeGreaterThan(10);
    expect(all.summary.hosts).toBe(new Set(docs.map((d) => d.host.id)).size);
  });

  test('free text is not in the index: no counted answer (the route reads the window)', () => {
    expect(local.eventsAnswer({ window: {}, filter: { text: 'curl' }, sort: 'desc', size: 500, page: 0 })).toBeUndefined();
  });
});
