/**
 * The events search counted in the local store's index (rollup of whole minutes, edge minutes and the page from
 * `events`) answers exactly what reading the window and keeping what matchesFilter keeps answers, on one store:
 * totals, per-action counts, failures, distinct processes and hosts, and the page's events in order. Files deleted
 * by the max_files bound take their rollup and flow-table rows with them.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { datasetName } from '../../../kibana-plugin/common/ecs.ts';
import { scanEvents } from '../../../kibana-plugin/common/search/events.ts';
import { SEARCH_DATASETS } from '../../../kibana-plugin/common/search/filter.ts';
import { syntheticFlows } from '../../../kibana-plugin/common/flows/synthetic.ts';
import { localFlowsAnswer } from '../../../kibana-plugin/server/flows-route.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { LocalStoreSource } from './local-source.ts';
import { comparable, eventsSearchDocs, eventsSearchQueries } from './testdata/events-search.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

const docs = eventsSearchDocs();

function storeOf(opts: { rotateBytes?: number; maxFiles?: number } = {}): LocalStoreSource {
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
    expect(all.total).toBe(docs.filter((d) => SEARCH_DATASETS.some((s) => d.event.dataset === datasetName(s))).length);
    expect(all.total).toBeGreaterThan(1500);
    expect(all.summary.failures).toBeGreaterThan(10);
    expect(all.summary.hosts).toBe(new Set(docs.map((d) => d.host.id)).size);
  });

  test('free text is not in the index: no counted answer (the route reads the window)', () => {
    expect(local.eventsAnswer({ window: {}, filter: { text: 'curl' }, sort: 'desc', size: 500, page: 0 })).toBeUndefined();
  });
});

test('files deleted by the max_files bound take their counts with them (rollup rows)', async () => {
  const local = storeOf({ rotateBytes: 32 * 1024, maxFiles: 4 });
  try {
    const query = { window: {}, filter: {}, sort: 'asc' as const, size: 500, page: 0 };
    const counted = local.eventsAnswer(query)!;
    const read = await scanEvents(local, query);
    expect(comparable(counted)).toEqual(comparable(read));
    // some files went: fewer events than were written, and the oldest counted event is a later one
    expect(counted.total).toBeGreaterThan(0);
    expect(counted.total).toBeLessThan(docs.length / 2);
  } finally {
    local.close();
  }
});

test("flow files deleted by the max_files bound take their rows out of the index's flow table", async () => {
  const dir = tempDir('provmon-flows-evict-');
  const store = new LocalStore({ dir, rotateBytes: 64 * 1024, maxFiles: 3 });
  const flows = [...syntheticFlows({ flows: 2000, start: Date.parse('2026-03-02T10:00:00Z'), spanMs: 3_600_000 })];
  for (const d of flows) store.write(d);
  store.close();
  const local = LocalStoreSource.open(dir);
  try {
    const request = { interval: '5m' as const, sort: 'bytes' as const };
    const { scan, ...indexed } = local.flowsAnswer({}, request, Infinity);
    const { scan: _read, ...read } = await localFlowsAnswer({ source: local, where: dir, descriptor: {}, info: async () => local.info() }, {}, request);
    expect(indexed).toEqual(read);
    expect(indexed.totals.flows).toBeGreaterThan(0);
    expect(indexed.totals.flows).toBeLessThan(flows.filter((d) => d.provmon?.flow?.final).length);
    expect(scan.truncated).toBe(false);
  } finally {
    local.close();
  }
});
