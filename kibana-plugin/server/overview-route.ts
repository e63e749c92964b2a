/**
 * GET /api/provmon/overview: counts per dataset over a window (default the last 24 h), top actions and
 * processes, and per host the last event seen. `drops` is what the host's latest health document in the window
 * counts as lost since its sensor started (ring drops and losses, packet drops, output drops: docs/health.md);
 * null when the window holds no health document for the host, rather than a made-up zero.
 */
import { DATASETS, datasetOf, type Dataset } from '../common/ecs.ts';
import { scanWindow } from '../common/search/scan.ts';
import { route } from './http.ts';
import { validator } from './params.ts';

const TOP = 10;
const MAX_SCAN = 2_000_000;

export const readOverviewQuery = validator(['from', 'to'], (p) => {
  const now = Date.now();
  const w = p.window(now);
  return { from: w.from ?? new Date(now - 86_400_000).toISOString(), to: w.to ?? new Date(now).toISOString() };
});

export interface HostHealth {
  id: string;
  name: string;
  events: number;
  last_event: string;
  drops: number | null;
}

export interface OverviewAnswer {
  window: { from: string; to: string };
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

export const overviewRoute = route({
  path: '/api/provmon/overview',
  summary: 'counts per dataset over a window (default last 24 h), top actions and processes, per-host last event',
  validate: { query: readOverviewQuery },
  async handler(store, { query }) {
    const datasets = Object.fromEntries(DATASETS.map((d) => [d, 0])) as Record<Dataset, number>;
    const actions = new Map<string, number>();
    const processes = new Map<string, number>();
    const hosts = new Map<string, HostHealth>();
    const scan = await scanWindow(store.source, { ...query, datasets: [...DATASETS], maxScan: MAX_SCAN }, (ev) => {
      const dataset = datasetOf(ev.event.dataset);
      if (dataset) datasets[dataset]++;
      actions.set(ev.event.action, (actions.get(ev.event.action) ?? 0) + 1);
      const name = ev.process?.name;
      if (name) processes.set(name, (processes.get(name) ?? 0) + 1);
      const h = hosts.get(ev.host.id) ?? { id: ev.host.id, name: ev.host.name, events: 0, last_event: ev['@timestamp'], drops: null };
      h.events++;
      h.last_event = ev['@timestamp'];
      const health = ev.provmon?.health;
      if (health) h.drops = health.ring.dropped + health.ring.lost + health.pcap.dropped + health.pcap.interface_dropped + health.output.dropped;
      hosts.set(ev.host.id, h);
    });
    const answer: OverviewAnswer = {
      window: query,
      datasets,
      total: scan.scanned,
      top_actions: top(actions).map(({ key, count }) => ({ action: key, count })),
      top_processes: top(processes).map(({ key, count }) => ({ name: key, count })),
      hosts: [...hosts.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
      scanned: scan.scanned,
      truncated: scan.truncated,
    };
    return answer;
  },
});
