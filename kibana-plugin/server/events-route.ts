/**
 * GET /api/provmon/events: the events of a time window narrowed by the filter of common/search/filter.ts, sorted
 * by time, one page of 500–5000, each with its `target`, and summary counts over every match (not just the page).
 */
import type { EcsEvent } from '../common/ecs.ts';
import { eventTarget, matchesFilter, SEARCH_DATASETS, type EventFilter } from '../common/search/filter.ts';
import { scanWindow } from '../common/search/scan.ts';
import { route } from './http.ts';
import { validator } from './params.ts';

export const MIN_PAGE = 500;
export const MAX_PAGE = 5000;
/** Most events one search reads (the answer says `truncated` past it). */
export const MAX_SCAN = 2_000_000;
/** Most matches held for sorting and paging. */
const MAX_MATCHES = 200_000;

export interface EventsQuery {
  window: { from?: string; to?: string };
  filter: EventFilter;
  sort: 'asc' | 'desc';
  size: number;
  page: number;
}

export const EVENTS_PARAMS = ['from', 'to', 'host', 'action', 'process_name', 'pid', 'ppid', 'entity_id', 'q', 'outcome', 'sort', 'size', 'page'] as const;

export const readEventsQuery = validator(EVENTS_PARAMS, (p): EventsQuery => {
  const hosts = p.list('host');
  const actions = p.list('action');
  const processName = p.string('process_name');
  const pid = p.int('pid', 0, 2 ** 31);
  const ppid = p.int('ppid', 0, 2 ** 31);
  const entityId = p.string('entity_id');
  const text = p.string('q');
  const outcome = p.oneOf('outcome', ['success', 'failure'] as const);
  return {
    window: p.window(Date.now()),
    filter: {
      ...(hosts ? { hosts } : {}),
      ...(actions ? { actions } : {}),
      ...(processName ? { processName } : {}),
      ...(pid !== undefined ? { pid } : {}),
      ...(ppid !== undefined ? { ppid } : {}),
      ...(entityId ? { entityId } : {}),
      ...(text ? { text } : {}),
      ...(outcome ? { outcome } : {}),
    },
    sort: p.oneOf('sort', ['asc', 'desc'] as const) ?? 'desc',
    size: p.int('size', MIN_PAGE, MAX_PAGE) ?? MIN_PAGE,
    page: p.int('page', 0, 1_000_000) ?? 0,
  };
});

export type EventRow = EcsEvent & { target?: string };

export interface EventsAnswer {
  total: number;
  page: number;
  size: number;
  events: EventRow[];
  summary: { actions: Record<string, number>; unique_actions: number; processes: number; failures: number; hosts: number };
  scanned: number;
  /** the scan or the match list hit its bound: counts are lower bounds */
  truncated: boolean;
}

export const eventsRoute = route({
  path: '/api/provmon/events',
  summary: 'events in a time window with filters, sorted, paged (500–5000), with a target per event and summary counts',
  validate: { query: readEventsQuery },
  async handler(store, { query }) {
    const matches: EcsEvent[] = [];
    const actions: Record<string, number> = {};
    const processes = new Set<string>();
    const hosts = new Set<string>();
    let failures = 0;
    let total = 0;
    const scan = await scanWindow(store.source, { ...query.window, datasets: SEARCH_DATASETS, maxScan: MAX_SCAN }, (ev) => {
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
    const events = ordered.slice(start, start + query.size).map((ev) => {
      const target = eventTarget(ev);
      return target === undefined ? ev : { ...ev, target };
    });
    const answer: EventsAnswer = {
      total,
      page: query.page,
      size: query.size,
      events,
      summary: { actions, unique_actions: Object.keys(actions).length, processes: processes.size, failures, hosts: hosts.size },
      scanned: scan.scanned,
      truncated: scan.truncated || total > kept.length,
    };
    return answer;
  },
});
