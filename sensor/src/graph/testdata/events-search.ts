/**
 * Documents and questions for the events search's conformance: a store's counted answer (its index or
 * aggregations) must equal the answer of reading the window and keeping what `matchesFilter` keeps.
 *
 * The documents span several minutes (the local index counts whole minutes from its rollup and reads the window's
 * edge minutes), with failures, two hosts, execs that rename a process, microsecond timestamps inside one
 * millisecond (the source conformance corner cases) and the engine's synthetic workload for volume. The windows
 * start and end at microsecond times inside minutes, inside one minute, and past the data.
 */
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { EventFactory } from '../../../../kibana-plugin/common/graph/synthetic.ts';
import type { EventsQuery } from '../../../../kibana-plugin/common/search/events.ts';
import type { EventFilter } from '../../../../kibana-plugin/common/search/filter.ts';
import { cornerEvents, microIso, workloadEvents } from './conformance.ts';

/** Minutes of activity on two hosts, an event every 1.7 s. */
function minutesOfActivity(): EcsEvent[] {
  const out: EcsEvent[] = [];
  for (const [host, start] of [['host-m', '2025-03-01T09:01:10.000Z'], ['host-n', '2025-03-01T09:02:40.000Z']] as const) {
    const f = new EventFactory({ host, start, stepMs: 1700 });
    const sh = f.running(10, '/usr/bin/bash', { args: ['bash'] });
    for (let i = 0; i < 60; i++) {
      const p = f.spawn(sh, 100 + i, '/usr/bin/curl', ['curl', `http://10.0.0.${i % 5}/`]);
      if (i % 3 === 0) f.exec(p, '/usr/bin/python3', ['python3', '-c', 'x'], 'python3');
      f.open(p, `/etc/file-${i % 4}`, ['O_RDONLY'], i % 4 === 0 ? { outcome: 'failure' } : {});
      f.connect(p, `10.0.0.${i % 5}`, 80, i % 7 === 0 ? { outcome: 'failure', error: 'ECONNREFUSED' } : {});
      f.end(p);
    }
    // Each step lands 0.25 ms apart inside a millisecond now and then: put the fraction back (toISOString drops it).
    const first = Date.parse(start);
    out.push(...f.events.map((e) => ({ ...e, '@timestamp': microIso(first + (e.event.sequence! - 1) * 1700 + ((e.event.sequence! % 4) * 0.25)) })));
  }
  return out;
}

export function eventsSearchDocs(): EcsEvent[] {
  return [...minutesOfActivity(), ...workloadEvents(), ...cornerEvents()];
}

export interface NamedEventsQuery {
  name: string;
  query: EventsQuery;
}

/** Filters × windows × order × pages over `docs`. */
export function eventsSearchQueries(docs: readonly EcsEvent[]): NamedEventsQuery[] {
  const m = docs.filter((d) => d.host.id === 'host-m');
  const curl = m.find((d) => d.process?.name === 'curl')!;
  const bash = m.find((d) => d.process?.name === 'bash')!;
  const filters: [string, EventFilter][] = [
    ['everything', {}],
    ['one action', { actions: ['exec'] }],
    ['two actions', { actions: ['open', 'connection_attempted'] }],
    ['failures', { outcome: 'failure' }],
    ['successes of a process name', { outcome: 'success', processName: 'curl' }],
    ['a process name an exec took', { processName: 'python3' }],
    ['a pid', { pid: curl.process!.pid }],
    ['a parent pid', { ppid: bash.process!.pid }],
    ['an entity id or its children', { entityId: bash.process!.entity_id }],
    ['a host by name', { hosts: ['host-n'] }],
    ['hosts by id and by name', { hosts: ['host-c', 'host-m'] }],
    ['nothing matches', { processName: 'no-such-process' }],
  ];
  const windows: [string, EventsQuery['window']][] = [
    ['no window', {}],
    ['edges inside minutes', { from: m[5]!['@timestamp'], to: docs.find((d) => d.host.id === 'host-n' && d.event.sequence === 90)!['@timestamp'] }],
    ['inside one minute', { from: m[3]!['@timestamp'], to: m[20]!['@timestamp'] }],
    ['from only, inside a millisecond', { from: microIso(Date.parse('2025-03-01T09:00:00.000Z') + 0.5) }],
    ['to only, a whole minute', { to: '2025-03-01T09:03:00.000Z' }],
    ['past the data', { from: '2030-01-01T00:00:00Z' }],
  ];
  const out: NamedEventsQuery[] = [];
  for (const [fname, filter] of filters) {
    for (const [wname, window] of windows) {
      for (const sort of ['desc', 'asc'] as const) {
        for (const page of [0, 1]) out.push({ name: `${fname}, ${wname}, ${sort}, page ${page}`, query: { window, filter, sort, size: 100, page } });
      }
    }
  }
  return out;
}

/** What must be equal: everything but `scanned` (documents read), which is the point of counting in an index. */
export function comparable(a: { total: number; page: number; size: number; events: EcsEvent[]; summary: unknown; truncated: boolean }) {
  return { total: a.total, page: a.page, size: a.size, summary: a.summary, truncated: a.truncated, events: a.events.map((e) => e.event.id) };
}
