/**
 * What the events search asks and answers (GET /api/provmon/events), and the path every store can take: read the
 * window through the engine's EventSource and keep what `matchesFilter` keeps. Stores that can count in their own
 * index (the local store's sqlite, Elasticsearch aggregations) answer the same question without reading every
 * document (ProvmonStore.events); they fall back to this path for what their index cannot express, and the
 * conformance tests hold them to its answers.
 */
import type { EcsEvent } from '../ecs.ts';
import { eventTarget, matchesFilter, SEARCH_DATASETS, type EventFilter } from './filter.ts';
import { scanWindow } from './scan.ts';

export interface EventsQuery {
  window: { from?: string; to?: string };
  filter: EventFilter;
  sort: 'asc' | 'desc';
  size: number;
  page: number;
}

export type EventRow = EcsEvent & { target?: string };

export interface EventsSummary {
  actions: Record<string, number>;
  unique_actions: number;
  /** distinct process.entity_id */
  processes: number;
  failures: number;
  /** distinct host.id */
  hosts: number;
}

export interface EventsAnswer {
  total: number;
  page: number;
  size: number;
  events: EventRow[];
  summary: EventsSummary;
  /** documents read to answer (the whole window when scanning; the page when the store counted in its index) */
  scanned: number;
  /** the scan or the match list hit its bound: counts are lower bounds */
  truncated: boolean;
}

/** Most events one scanning search reads (the answer says `truncated` past it). */
export const MAX_SCAN = 2_000_000;
/** Most matches a scanning search holds for sorting and paging. */
const MAX_MATCHES = 200_000;

/** The event with its `target` (what it acted on), as the table shows it. */
export function withTarget(ev: EcsEvent): EventRow {
  const target = eventTarget(ev);
  return target === undefined ? ev : { ...ev, target };
}

/** The summary of per-action counts and the distinct counts. */
export function eventsSummary(actions: Record<string, number>, processes: number, failures: number, hosts: number): EventsSummary {
  return { actions, unique_actions: Object.keys(actions).length, processes, failures, hosts };
}

/** The answer from reading the window: every store can do this; it costs a read of every event of the window. */
export async function scanEvents(source: Parameters<typeof scanWindow>[0], query: EventsQuery, maxScan = MAX_SCAN): Promise<EventsAnswer> {
  const matches: EcsEvent[] = [];
  const actions: Record<string, number> = {};
  const processes = new Set<string>();
  const hosts = new Set<string>();
  let failures = 0;
  let total = 0;
  const scan = await scanWindow(source, { ...query.window, datasets: SEARCH_DATASETS, maxScan }, (ev) => {
    if (!matchesFilter(ev, query.filter)) return;
    total++;
    actions[ev.event.action] = (actions[ev.event.action] ?? 0) + 1;
    if (ev.process?.entity_id) processes.add(ev.process.entity_id);
    if (ev.host?.id) hosts.add(ev.host.id);
    if (ev.event.outcome === 'failure') failures++;
    // The source answers oldest first: keep the first MAX_MATCHES for "oldest first", the latest for "newest first".
    if (query.sort === 'asc') {
      if (matches.length < MAX_MATCHES) matches.push(ev);
      return;
    }
    matches.push(ev);
    if (matches.length >= MAX_MATCHES * 2) matches.splice(0, matches.length - MAX_MATCHES);
  });
  const kept = matches.length > MAX_MATCHES ? matches.slice(matches.length - MAX_MATCHES) : matches;
  const ordered = query.sort === 'asc' ? kept : [...kept].reverse();
  const start = query.page * query.size;
  return {
    total,
    page: query.page,
    size: query.size,
    events: ordered.slice(start, start + query.size).map(withTarget),
    summary: eventsSummary(actions, processes.size, failures, hosts.size),
    scanned: scan.scanned,
    truncated: scan.truncated || total > kept.length,
  };
}
