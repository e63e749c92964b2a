/**
 * The route handlers through `dispatch` (what Kibana's router and `provmon ui` both do) over the engine's
 * synthetic workload in a MemorySource: answers, and every kind of bad input answered with a 4xx whose message
 * names the problem. The same handlers over the local store and Elasticsearch are exercised by the ui tests.
 */
import { describe, expect, test } from 'bun:test';
import { graphFromEvents } from '../common/graph/index.ts';
import { MemorySource } from '../common/graph/source.ts';
import { syntheticWorkload } from '../common/graph/synthetic.ts';
import { dispatch } from './dispatch.ts';
import { entityRoute, type EntityAnswer } from './entity-route.ts';
import { eventsRoute, type EventsAnswer } from './events-route.ts';
import { graphRoute } from './graph-route.ts';
import type { ProvmonStore, RouteDefinition } from './http.ts';
import { overviewRoute, type OverviewAnswer } from './overview-route.ts';

const w = syntheticWorkload({ seed: 7, packages: 6, filesPerPackage: 6, requests: 6 });
const attack = w.attack!;
const exfil = `ip:${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`;

function memoryStore(events = w.events): ProvmonStore {
  const source = new MemorySource(events);
  const times = events.map((e) => e['@timestamp']).sort();
  return {
    source,
    where: 'the test store',
    descriptor: { type: 'memory' },
    info: async () => ({ events: events.length, ...(times.length ? { from: times[0]!, to: times[times.length - 1]! } : {}) }),
  };
}

async function call(def: RouteDefinition, query: Record<string, unknown> = {}, params: Record<string, string> = {}, store = memoryStore()) {
  return dispatch(def, store, { query, params });
}

function message(body: unknown): string {
  return (body as { message: string }).message;
}

describe('GET /api/provmon/graph', () => {
  test('answers the engine graph with the source and window, like provmon graph --format json', async () => {
    const r = await call(graphRoute, { poi: exfil, direction: 'backward' });
    expect(r.status).toBe(200);
    const g = r.body as Awaited<ReturnType<typeof graphFromEvents>> & { source: unknown };
    const direct = await graphFromEvents(w.events, { poi: exfil, direction: 'backward' });
    expect(g.nodes).toEqual(direct.nodes);
    expect(g.edges).toEqual(direct.edges);
    expect(g.source).toEqual({ type: 'memory' });
    expect(Object.keys(g)).toEqual(['poi', 'direction', 'source', 'nodes', 'edges', 'stats', 'summary', 'truncated']);
    expect(g.nodes.some((n) => n.kind === 'file' && n.path === attack.dropped)).toBe(true);
  });

  test('reduce=false, depth and max_nodes reach the engine; a cut graph carries a notice naming the parameter', async () => {
    const full = (await call(graphRoute, { poi: exfil, reduce: 'false' })).body as { stats: { edges: number; edges_before: number } };
    expect(full.stats.edges).toBe(full.stats.edges_before);
    const cut = (await call(graphRoute, { poi: exfil, depth: '1' })).body as { truncated: { depth: boolean }; notice: string };
    expect(cut.truncated.depth).toBe(true);
    expect(cut.notice).toContain('depth 1');
    const few = (await call(graphRoute, { poi: exfil, max_nodes: '3' })).body as { notice: string };
    expect(few.notice).toContain('max_nodes 3');
  });

  test('bad input: 400 naming the parameter', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'poi is required'],
      [{ poi: 'host:x' }, 'poi: unknown point of interest kind'],
      [{ poi: 'ip:not-an-ip:80' }, 'is not an IP address'],
      [{ poi: 'file:relative/path' }, 'absolute path'],
      [{ poi: exfil, direction: 'sideways' }, 'direction: expected backward | forward | both'],
      [{ poi: exfil, from: 'yesterday' }, 'from: expected ISO 8601'],
      [{ poi: exfil, from: '2026-01-02', to: '2026-01-01' }, 'is after to'],
      [{ poi: exfil, depth: '-1' }, 'depth: expected a whole number from 1'],
      [{ poi: exfil, max_nodes: 'many' }, 'max_nodes'],
      [{ poi: exfil, reduce: 'no' }, 'reduce: expected true | false'],
      [{ poi: exfil, maxNodes: '3' }, 'unknown parameter "maxNodes"'],
      [{ poi: [exfil, exfil] }, 'poi: given more than once'],
    ];
    for (const [query, expected] of cases) {
      const r = await call(graphRoute, query);
      expect({ query, status: r.status }).toEqual({ query, status: 400 });
      expect(message(r.body)).toContain(expected);
    }
  });

  test('nothing matched, or an empty store: 404 saying which', async () => {
    const none = await call(graphRoute, { poi: 'ip:10.9.9.9:1' });
    expect(none.status).toBe(404);
    expect(message(none.body)).toBe('nothing matched ip:10.9.9.9:1 in the test store');
    const empty = await call(graphRoute, { poi: exfil }, {}, memoryStore([]));
    expect(empty.status).toBe(404);
    expect(message(empty.body)).toBe('the test store holds no events');
  });

  test('a store that fails mid-request: 500 with its message, not a hang or an empty graph', async () => {
    const broken: ProvmonStore = { ...memoryStore(), source: { fetch: async () => Promise.reject(new Error('index file is corrupt')) } };
    const r = await call(graphRoute, { poi: exfil }, {}, broken);
    expect(r.status).toBe(500);
    expect(message(r.body)).toContain('index file is corrupt');
  });
});

describe('GET /api/provmon/events', () => {
  test('filters by process and action, with targets and summary counts over every match', async () => {
    const r = await call(eventsRoute, { process_name: 'curl', action: 'connection_attempted,creation,write,open', sort: 'asc' });
    expect(r.status).toBe(200);
    const a = r.body as EventsAnswer;
    expect(a.total).toBeGreaterThan(0);
    expect(a.events.every((e) => e.process?.name === 'curl')).toBe(true);
    expect(a.events.map((e) => e['@timestamp'])).toEqual([...a.events.map((e) => e['@timestamp'])].sort());
    const connect = a.events.find((e) => e.event.action === 'connection_attempted')!;
    expect(connect.target).toBe(`${connect.destination!.ip}:${connect.destination!.port}`);
    expect(a.events.some((e) => e.target === attack.dropped)).toBe(true);
    expect(a.summary.unique_actions).toBe(Object.keys(a.summary.actions).length);
    expect(Object.values(a.summary.actions).reduce((x, y) => x + y, 0)).toBe(a.total);
    expect(a.truncated).toBe(false);
  });

  test('newest first by default; pages of 500 to 5000; free text and pid', async () => {
    const all = (await call(eventsRoute, { size: '500' })).body as EventsAnswer;
    expect(all.total).toBe(w.events.filter((e) => e.event.dataset !== 'provmon.flow').length);
    expect(all.events.length).toBe(Math.min(500, all.total));
    expect(all.events[0]!['@timestamp'] >= all.events[all.events.length - 1]!['@timestamp']).toBe(true);
    const second = (await call(eventsRoute, { size: '500', page: '1' })).body as EventsAnswer;
    expect(second.events[0]?.event.id).not.toBe(all.events[0]!.event.id);
    const text = (await call(eventsRoute, { q: 'shadow' })).body as EventsAnswer;
    expect(text.total).toBeGreaterThan(0);
    expect(text.events.every((e) => JSON.stringify(e).includes('shadow'))).toBe(true);
    const pid = attack.payload.pid;
    const byPid = (await call(eventsRoute, { pid: String(pid) })).body as EventsAnswer;
    expect(byPid.events.every((e) => e.process?.pid === pid)).toBe(true);
  });

  test('bad input: oversized or undersized page, bad pid, bad window, unknown parameter → 400', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ size: '10000' }, 'size: expected a whole number from 500 to 5000'],
      [{ size: '10' }, 'size: expected a whole number from 500 to 5000'],
      [{ pid: 'abc' }, 'pid: expected a whole number'],
      [{ from: 'soon' }, 'from: expected ISO 8601'],
      [{ sort: 'random' }, 'sort: expected asc | desc'],
      [{ process: 'curl' }, 'unknown parameter "process"'],
    ];
    for (const [query, expected] of cases) {
      const r = await call(eventsRoute, query);
      expect({ query, status: r.status }).toEqual({ query, status: 400 });
      expect(message(r.body)).toContain(expected);
    }
  });
});

describe('GET /api/provmon/entity/{kind}/{id}', () => {
  test('a process: its events and its neighbours one step away', async () => {
    const r = await call(entityRoute, {}, { kind: 'process', id: attack.payload.entityId });
    expect(r.status).toBe(200);
    const a = r.body as EntityAnswer;
    expect(a.node?.entity_id).toBe(attack.payload.entityId);
    expect(a.events.length).toBeGreaterThan(0);
    expect(a.events.every((e) => e.process?.entity_id === attack.payload.entityId || e.process?.parent?.entity_id === attack.payload.entityId)).toBe(true);
    expect(a.neighbours.nodes.some((n) => n.kind === 'file' && n.path === attack.secret)).toBe(true);
  });

  test('a file and an endpoint', async () => {
    const f = await call(entityRoute, {}, { kind: 'file', id: attack.dropped });
    expect(f.status).toBe(200);
    expect((f.body as EntityAnswer).events.every((e) => JSON.stringify(e).includes(attack.dropped))).toBe(true);
    const ep = await call(entityRoute, {}, { kind: 'endpoint', id: `${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}` });
    expect(ep.status).toBe(200);
  });

  test('unknown entity → 404; bad kind or id → 400', async () => {
    const unknown = await call(entityRoute, {}, { kind: 'process', id: 'no-such-entity' });
    expect(unknown.status).toBe(404);
    expect(message(unknown.body)).toBe('unknown process "no-such-entity": no event in the test store names it');
    const kind = await call(entityRoute, {}, { kind: 'socket', id: 'x' });
    expect(kind.status).toBe(400);
    expect(message(kind.body)).toContain('kind: expected process | file | endpoint');
    const id = await call(entityRoute, {}, { kind: 'endpoint', id: 'example.com:80' });
    expect(id.status).toBe(400);
    expect(message(id.body)).toContain('not an IP address');
    const extra = await call(entityRoute, { depth: '2' }, { kind: 'process', id: attack.payload.entityId });
    expect(extra.status).toBe(400);
  });
});

describe('GET /api/provmon/overview', () => {
  test('counts per dataset, top actions and processes, hosts with their last event', async () => {
    const r = await call(overviewRoute, { from: '2020-01-01', to: 'now' });
    expect(r.status).toBe(200);
    const a = r.body as OverviewAnswer;
    expect(a.total).toBe(w.events.length);
    expect(Object.values(a.datasets).reduce((x, y) => x + y, 0)).toBe(w.events.length);
    expect(a.top_actions[0]!.count).toBeGreaterThanOrEqual(a.top_actions[a.top_actions.length - 1]!.count);
    expect(a.top_processes.length).toBeGreaterThan(0);
    const last = [...w.events].sort((x, y) => (x['@timestamp'] < y['@timestamp'] ? -1 : 1)).at(-1)!;
    expect(a.hosts.find((h) => h.id === last.host.id)!.last_event).toBe(last['@timestamp']);
    expect(a.hosts.every((h) => h.drops === null)).toBe(true);
  });

  test('the default window is the last 24 hours (the synthetic capture is older: all zero)', async () => {
    const a = (await call(overviewRoute)).body as OverviewAnswer;
    expect(Date.parse(a.window.to) - Date.parse(a.window.from)).toBe(86_400_000);
    expect(a.total).toBe(0);
  });
});
