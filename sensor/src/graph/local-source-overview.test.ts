/**
 * The overview counted in the local store's index (`rollup` for whole minutes, `events` rows for the window's edge
 * minutes, a few lines per host) answers exactly what reading the window answers, on one store: counts per dataset,
 * top actions and processes, per host its name, events, last event and latest health losses.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import type { Dataset, EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { syntheticFlows } from '../../../kibana-plugin/common/flows/synthetic.ts';
import { overviewAnswer, readOverviewCounts, type OverviewWindow } from '../../../kibana-plugin/server/overview-route.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { HealthReporter } from '../run/health.ts';
import { LocalStoreSource } from './local-source.ts';
import { eventsSearchDocs } from './testdata/events-search.ts';
import { microIso } from './testdata/conformance.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

const zero = (): Record<Dataset, number> => ({ process: 0, file: 0, network: 0, flow: 0, dns: 0, health: 0, audit: 0 });

/** Health documents every 20 s for both hosts of the events; host-m's sensor loses more and more records. */
function healthDocs(): EcsEvent[] {
  const out: EcsEvent[] = [];
  for (const [id, start] of [['host-m', Date.parse('2025-03-01T09:01:05Z')], ['host-n', Date.parse('2025-03-01T09:02:35Z')]] as const) {
    const reporter = new HealthReporter({ host: { id, name: id, bootTimeMs: 0 }, namespace: 'default', startedAtMs: start });
    for (let i = 1; i <= 12; i++) {
      const atMs = start + i * 20_000;
      const lost = id === 'host-m' ? i * 3 : 0;
      const kernel = { dropped: lost, droppedCritical: 0, droppedNet: 0, droppedHigh: 0, droppedLow: lost, lost: 0, queueBytes: 0, queueFullWaits: 0 };
      const doc = reporter.document({
        atMs,
        totals: zero(),
        capture: { kernel: kernel as never, ringPendingBytes: 0, processes: 1, unattributedIo: 0 },
        features: [],
        pcap: undefined,
        output: { name: 'local', counters: { written: i } },
        rssBytes: 1 << 20,
        enabled: { ebpf: true, pcap: false },
      });
      out.push({ ...doc, '@timestamp': microIso(atMs + 0.5) });
    }
  }
  return out;
}

const flows = [...syntheticFlows({ flows: 300, start: Date.parse('2025-03-01T09:00:30Z'), spanMs: 8 * 60_000 })];
const docs: EcsEvent[] = [...eventsSearchDocs(), ...healthDocs(), ...flows];

function storeOf(rotateBytes: number): LocalStoreSource {
  const dir = tempDir('provmon-overview-');
  const store = new LocalStore({ dir, rotateBytes });
  // Out of time order, as a sensor writes (aggregated I/O is emitted at close).
  for (const d of [...docs].reverse()) store.write(d);
  store.close();
  return LocalStoreSource.open(dir);
}

const health = docs.filter((d) => d.event.dataset === 'provmon.health');
const windows: [string, OverviewWindow][] = [
  ['everything', { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' }],
  // edges inside minutes, at microseconds, on a health document's exact time
  ['edges inside minutes', { from: '2025-03-01T09:02:17.123456Z', to: health[7]!['@timestamp'] }],
  ['inside one minute', { from: '2025-03-01T09:03:05.000250Z', to: '2025-03-01T09:03:49.999Z' }],
  ['whole minutes', { from: '2025-03-01T09:02:00Z', to: '2025-03-01T09:05:00Z' }],
  ['past the data', { from: '2030-01-01T00:00:00Z', to: '2030-01-02T00:00:00Z' }],
];

describe('the local store counts the overview in its index, with the answer of reading the window', () => {
  // Small files: one minute's counts are spread over several JSONL files (and rollup rows).
  const local = storeOf(64 * 1024);
  afterAll(() => local.close());

  for (const [name, window] of windows) {
    test(name, async () => {
      const read = overviewAnswer(window, await readOverviewCounts(local, window));
      expect(read.truncated).toBe(false);
      expect(overviewAnswer(window, local.overviewCounts(window))).toEqual(read);
    });
  }

  test('the answers are not trivial ones: every dataset written, both hosts, losses from the latest health document', () => {
    const all = overviewAnswer(windows[0]![1], local.overviewCounts(windows[0]![1]));
    expect(all.total).toBe(docs.length);
    for (const d of ['process', 'file', 'network', 'flow', 'health'] as const) expect(all.datasets[d]).toBeGreaterThan(0);
    expect(all.top_processes.length).toBe(10);
    const m = all.hosts.find((h) => h.id === 'host-m')!;
    expect(m.drops).toBe(36);
    expect(all.hosts.find((h) => h.id === 'host-n')!.drops).toBe(0);
    const edge = overviewAnswer(windows[1]![1], local.overviewCounts(windows[1]![1]));
    expect(edge.hosts.find((h) => h.id === 'host-m')!.drops).toBe(3 * 8);
    expect(edge.total).toBeLessThan(all.total);
  });
});
