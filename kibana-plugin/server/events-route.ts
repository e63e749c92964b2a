/**
 * GET /api/provmon/events: the events of a time window narrowed by the filter of common/search/filter.ts, sorted
 * by time, one page of 500–5000, each with its `target`, and summary counts over every match (not just the page).
 * The question and the reading path are common/search/events.ts; stores that count in their index answer through
 * ProvmonStore.events.
 */
import { scanEvents, type EventsAnswer, type EventsQuery } from '../common/search/events.ts';
import { route } from './http.ts';
import { validator } from './params.ts';

export const MIN_PAGE = 500;
export const MAX_PAGE = 5000;
export type { EventRow, EventsAnswer, EventsQuery } from '../common/search/events.ts';

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

export const eventsRoute = route({
  path: '/api/provmon/events',
  summary: 'events in a time window with filters, sorted, paged (500–5000), with a target per event and summary counts',
  validate: { query: readEventsQuery },
  async handler(store, { query }) {
    // A store that counts in its own index answers without reading the window; what it cannot express, is read.
    const answer: EventsAnswer = (await store.events?.(query)) ?? (await scanEvents(store.source, query));
    return answer;
  },
});
