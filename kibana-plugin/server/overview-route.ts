/**
 * GET /api/provmon/overview: counts per dataset over a window (default the last 24 h), top actions and
 * processes, and per host the last event seen. `drops` is what the host's latest health document in the window
 * counts as lost since its sensor started (ring drops and losses, packet drops, output drops: docs/health.md);
 * null when the window holds no health document for the host, rather than a made-up zero.
 */
import { DATASETS, datasetOf, type Dataset, type EcsEvent } from '../common/ecs.ts';
import type { EventSource } from '../common/graph/source.ts';
import { scanWindow } from '../common/search/scan.ts';
import { route } from './http.ts';
import { validator } from './params.ts';

const TOP = 10;
/** events the reading path reads for one answer; beyond it the answer says `truncated` */
export const MAX_SCAN = 2_000_000;

export const readOverviewQuery = validator(['from', 'to'], (p) => {
  const now = Date.now();
  const w = p.window(now);
  return { from: w.from ?? new Date(now - 86_400_000).toISOString(), to: w.to ?? new Date(now).toISOString() };
});

export interface OverviewWindow {
  from: string;
  to: string;
}

export interface HostHealth {
  id: string;
  name: string;
  events: number;
  last_event: string;
  drops: number | null;
}

export interface OverviewAnswer {
  window: OverviewWindow;
  datasets: Record<Dataset, number>;
  total: number;
  top_actions: { action: string; count: number }[];
  top_processes: { name: string; count: number }[];
  hosts: HostHealth[];
  scanned: number;
  truncated: boolean;
}

function top(counts: Map<string, number>): { key: string; count: number }[] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP).map(([key, count]) => ({ key, count }));
}

/** What an overview is made of, before its top lists are cut: a store's index fills it, or a read of the window. */
export interface OverviewCounts {
  datasets: Record<Dataset, number>;
  actions: Map<string, number>;
  processes: Map<string, number>;
  /** by host.id */
  hosts: Map<string, HostHealth>;
  scanned: number;
  truncated: boolean;
}

export const emptyOverviewCounts = (): OverviewCounts => ({
  datasets: Object.fromEntries(DATASETS.map((d) => [d, 0])) as Record<Dataset, number>,
  actions: new Map(),
  processes: new Map(),
  hosts: new Map(),
  scanned: 0,
  truncated: false,
});

/** A health document's losses since its sensor started (docs/health.md). */
export function healthDrops(ev: EcsEvent): number | null {
  const health = ev.provmon?.health;
  return health ? health.ring.dropped + health.ring.lost + health.pcap.dropped + health.pcap.interface_dropped + health.output.dropped : null;
}

/** The overview by reading every event of the window through the store's event source (stores without an index). */
export async function readOverviewCounts(source: EventSource, window: OverviewWindow): Promise<OverviewCounts> {
  const c = emptyOverviewCounts();
  const scan = await scanWindow(source, { ...window, datasets: [...DATASETS], maxScan: MAX_SCAN }, (ev) => {
    const dataset = datasetOf(ev.event.dataset);
    if (dataset) c.datasets[dataset]++;
    c.actions.set(ev.event.action, (c.actions.get(ev.event.action) ?? 0) + 1);
    const name = ev.process?.name;
    if (name) c.processes.set(name, (c.processes.get(name) ?? 0) + 1);
    const h = c.hosts.get(ev.host.id) ?? { id: ev.host.id, name: ev.host.name, events: 0, last_event: ev['@timestamp'], drops: null };
    h.events++;
    h.last_event = ev['@timestamp'];
    const drops = healthDrops(ev);
    if (drops !== null) h.drops = drops;
    c.hosts.set(ev.host.id, h);
  });
  return { ...c, scanned: scan.scanned, truncated: scan.truncated };
}

export function overviewAnswer(window: OverviewWindow, c: OverviewCounts): OverviewAnswer {
  return {
    window,
    datasets: c.datasets,
    total: c.scanned,
    top_actions: top(c.actions).map(({ key, count }) => ({ action: key, count })),
    top_processes: top(c.processes).map(({ key, count }) => ({ name: key, count })),
    hosts: [...c.hosts.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    scanned: c.scanned,
    truncated: c.truncated,
  };
}

export const overviewRoute = route({
  path: '/api/provmon/overview',
  summary: 'counts per dataset over a window (default last 24 h), top actions and processes, per-host last event',
  validate: { query: readOverviewQuery },
  async handler(store, { query }) {
    return overviewAnswer(query, store.overview ? await store.overview(query) : await readOverviewCounts(store.source, query));
  },
});
