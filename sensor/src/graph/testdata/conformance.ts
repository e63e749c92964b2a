/**
 * The source conformance suite: documents and queries that every EventSource must answer exactly like
 * MemorySource (the executable form of the semantics in kibana-plugin/common/graph/source.ts).
 *
 * The hand-made documents are the corner cases: microsecond timestamps whose order inside one millisecond
 * disagrees with (sequence, id) across hosts, absent sequences, ties broken by id, exec paths in args, an
 * already_running whose executable must not match a path, a parent named on a non-lineage event, rename sides,
 * open flags in other spellings, DNS answers, flows (only when asked), IPv6, host filters. A synthetic workload
 * adds volume with the engine's own document shapes.
 */
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { EventFactory, syntheticWorkload } from '../../../../kibana-plugin/common/graph/synthetic.ts';
import { sortKey, type EventQuery, type EventSource } from '../../../../kibana-plugin/common/graph/source.ts';

type Dataset = 'process' | 'file' | 'network' | 'dns' | 'flow';

const DAY = '2025-05-01T10:00:';

interface DocSpec {
  id: string;
  at: string; // seconds part, e.g. '02.123900'
  seq?: number;
  host?: 'host-a' | 'host-b';
  dataset: Dataset;
  action: string;
  entity?: string;
  parent?: string;
  executable?: string;
  args?: string[];
  path?: string;
  source_path?: string;
  flags?: string[];
  src?: { ip: string; port?: number };
  dst?: { ip: string; port?: number };
  resolved?: string[];
  outcome?: 'success' | 'failure';
}

function doc(s: DocSpec): EcsEvent {
  const host = s.host ?? 'host-a';
  const ev: EcsEvent = {
    '@timestamp': `${DAY}${s.at}Z`,
    event: {
      kind: s.action === 'already_running' ? 'state' : 'event',
      category: [s.dataset === 'flow' || s.dataset === 'dns' ? 'network' : s.dataset],
      type: ['info'],
      action: s.action as EcsEvent['event']['action'],
      outcome: s.outcome ?? 'success',
      dataset: `provmon.${s.dataset}`,
      module: 'provmon',
      id: s.id,
      ...(s.seq !== undefined ? { sequence: s.seq } : {}),
    },
    host: { name: host, id: host },
    data_stream: { type: 'logs', dataset: `provmon.${s.dataset}`, namespace: 'default' },
  };
  if (s.entity) {
    ev.process = {
      pid: 100,
      entity_id: s.entity,
      ...(s.executable ? { executable: s.executable, name: s.executable.slice(s.executable.lastIndexOf('/') + 1) } : {}),
      ...(s.args ? { args: s.args, args_count: s.args.length } : {}),
      ...(s.parent ? { parent: { pid: 1, entity_id: s.parent } } : {}),
    };
  }
  if (s.path) ev.file = { path: s.path, name: s.path.slice(s.path.lastIndexOf('/') + 1) };
  if (s.source_path || s.flags) ev.provmon = { ...(s.source_path ? { file: { source_path: s.source_path } } : {}), ...(s.flags ? { open: { flags: s.flags } } : {}) };
  if (s.src) ev.source = s.src;
  if (s.dst) ev.destination = s.dst;
  if (s.resolved) ev.dns = { type: 'answer', question: { name: 'example.test' }, resolved_ip: s.resolved };
  return ev;
}

/** The corner cases. */
export function cornerEvents(): EcsEvent[] {
  const specs: DocSpec[] = [
    { id: 'a01', at: '00.000100', seq: 10, dataset: 'process', action: 'exec', entity: 'P1', parent: 'P0', executable: '/usr/bin/bash', args: ['/bin/bash', '/tmp/x.sh'] },
    { id: 'a02', at: '00.000100', dataset: 'process', action: 'already_running', entity: 'P0', executable: '/tmp/x.sh', args: ['/tmp/x.sh'] },
    { id: 'a03', at: '01.000000', seq: 11, dataset: 'process', action: 'fork', entity: 'P2', parent: 'P1', executable: '/usr/bin/bash' },
    { id: 'a04', at: '01.001500', seq: 12, dataset: 'file', action: 'read', entity: 'P2', parent: 'P1', path: '/etc/shadow' },
    // Same millisecond, two hosts: exact order b01 (.1231) before a05 (.1239); by sequence it is the reverse.
    { id: 'a05', at: '02.123900', seq: 5, dataset: 'file', action: 'open', entity: 'P1', path: '/tmp/x.sh', flags: ['wronly', 'creat'] },
    { id: 'b01', at: '02.123100', seq: 10, host: 'host-b', dataset: 'file', action: 'open', entity: 'Q1', path: '/tmp/x.sh', flags: ['O_RDONLY'] },
    // Same instant and sequence: the id decides.
    { id: 'a07', at: '03.000000', seq: 20, dataset: 'file', action: 'rename', entity: 'P1', path: '/tmp/z', source_path: '/tmp/x.sh' },
    { id: 'a06', at: '03.000000', seq: 20, dataset: 'file', action: 'rename', entity: 'P1', path: '/tmp/x.sh', source_path: '/tmp/y' },
    { id: 'a08', at: '03.500000', seq: 21, dataset: 'file', action: 'write', entity: 'P1', path: '/tmp/x.sh' },
    { id: 'a09', at: '04.000000', seq: 22, dataset: 'file', action: 'deletion', entity: 'P1', path: '/tmp/x.sh' },
    { id: 'a10', at: '04.000000', seq: 23, dataset: 'file', action: 'permission_change', entity: 'P1', path: '/tmp/x.sh' },
    { id: 'a11', at: '05.000000', seq: 24, dataset: 'network', action: 'connection_attempted', entity: 'P1', dst: { ip: '127.0.0.1', port: 9999 } },
    { id: 'a12', at: '05.000500', seq: 25, dataset: 'network', action: 'connection_accepted', entity: 'P3', src: { ip: '10.0.0.7', port: 40000 }, dst: { ip: '10.0.0.2', port: 80 } },
    { id: 'a13', at: '05.000999', seq: 26, dataset: 'network', action: 'send', entity: 'P1', dst: { ip: '127.0.0.1', port: 9999 } },
    { id: 'a14', at: '06.000000', seq: 27, dataset: 'dns', action: 'lookup_result', resolved: ['127.0.0.1', '93.184.216.34'] },
    { id: 'a15', at: '06.000000', seq: 28, dataset: 'flow', action: 'network_flow', src: { ip: '127.0.0.1', port: 50000 }, dst: { ip: '127.0.0.1', port: 9999 } },
    { id: 'b02', at: '06.500000', seq: 30, host: 'host-b', dataset: 'network', action: 'connection_attempted', entity: 'Q1', dst: { ip: '127.0.0.1', port: 9999 } },
    { id: 'b03', at: '07.000000', seq: 31, host: 'host-b', dataset: 'process', action: 'exec', entity: 'Q2', parent: 'Q1', executable: '/usr/bin/curl', args: ['curl', '-o', '/tmp/x.sh', 'http://127.0.0.1:8000/x.sh'] },
    { id: 'a16', at: '07.000000', seq: 32, dataset: 'file', action: 'open', entity: 'P4', path: '/tmp/x.sh', flags: ['O_PATH'] },
    { id: 'a17', at: '07.250000', seq: 33, dataset: 'file', action: 'read', entity: 'P4', path: '/tmp/x.sh', outcome: 'failure' },
    { id: 'a18', at: '08.000000', seq: 34, dataset: 'network', action: 'connection_attempted', entity: 'P4', dst: { ip: '::1', port: 8080 } },
    { id: 'a19', at: '09.000000', seq: 35, dataset: 'file', action: 'open', entity: 'P4', path: '/tmp/x.sh', flags: ['O_RDWR'] },
    { id: 'a20', at: '09.000000', dataset: 'file', action: 'creation', entity: 'P4', path: '/tmp/new' },
    { id: 'a21', at: '09.000000', seq: 0, dataset: 'file', action: 'creation', entity: 'P4', path: '/tmp/new' },
    { id: 'a22', at: '10.000000', seq: 40, dataset: 'process', action: 'end', entity: 'P2', parent: 'P1' },
  ];
  return specs.map(doc);
}

/** Volume: the engine's synthetic workload (a package install, a web server, an attack), on a third host. */
export function workloadEvents(): EcsEvent[] {
  const w = syntheticWorkload({ seed: 7, packages: 6, filesPerPackage: 8, requests: 6 });
  // Plus a second host whose clock runs inside the first one's milliseconds (microsecond timestamps).
  const f = new EventFactory({ host: 'host-c', start: '2025-03-01T09:00:00.000Z', stepMs: 0.25 });
  const sh = f.running(50, '/usr/bin/bash', { args: ['bash'] });
  for (let i = 0; i < 40; i++) {
    const p = f.spawn(sh, 60 + i, '/usr/bin/cat', ['cat', `/home/dev/proj/node_modules/pkg-${(i % 6).toString(36)}/lib/file0.js`]);
    f.readFile(p, `/home/dev/proj/node_modules/pkg-${(i % 6).toString(36)}/lib/file0.js`, 100);
    f.end(p);
  }
  // The factory's clock advanced 0.25 ms per event, but toISOString() drops the fraction: put it back.
  const start = Date.parse('2025-03-01T09:00:00.000Z');
  const micro = f.events.map((e) => ({ ...e, '@timestamp': microIso(start + (e.event.sequence! - 1) * 0.25) }));
  // The sensor's DNS documents come from packets and name no process (the dns data stream does not map process.*).
  const events = w.events.map((e) => {
    if (e.event.dataset !== 'provmon.dns') return e;
    const { process: _process, ...rest } = e;
    return rest as EcsEvent;
  });
  return [...events, ...micro];
}

/** ISO-8601 with microseconds, like the sensor writes. */
export function microIso(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  return `${new Date(whole).toISOString().slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

export interface NamedQuery {
  name: string;
  q: EventQuery;
}

/** Queries over the corner cases. */
export function cornerQueries(): NamedQuery[] {
  const t = (s: string) => `${DAY}${s}Z`;
  return [
    { name: 'entity, with lineage parent (not on non-lineage events)', q: { entityIds: ['P1'] } },
    { name: 'entity P0: parent of P1 exec only', q: { entityIds: ['P0'] } },
    { name: 'path, any access', q: { paths: ['/tmp/x.sh'] } },
    { name: 'path, modify', q: { paths: ['/tmp/x.sh'], pathAccess: 'modify' } },
    { name: 'path, use', q: { paths: ['/tmp/x.sh'], pathAccess: 'use' } },
    { name: 'rename source path, use', q: { paths: ['/tmp/y'], pathAccess: 'use' } },
    { name: 'rename source path, modify (not matched)', q: { paths: ['/tmp/y'], pathAccess: 'modify' } },
    { name: 'exec by executable', q: { paths: ['/usr/bin/curl'] } },
    { name: 'endpoint with port', q: { endpoints: [{ ip: '127.0.0.1', port: 9999 }] } },
    { name: 'endpoint without port (dns answers too)', q: { endpoints: [{ ip: '127.0.0.1' }] } },
    { name: 'endpoint with port also matches dns answers', q: { endpoints: [{ ip: '93.184.216.34', port: 443 }] } },
    { name: 'accept peer and local end', q: { endpoints: [{ ip: '10.0.0.7', port: 40000 }, { ip: '10.0.0.2' }] } },
    { name: 'ipv6', q: { endpoints: [{ ip: '::1', port: 8080 }] } },
    { name: 'not an address', q: { endpoints: [{ ip: 'localhost', port: 8080 }] } },
    { name: 'flows only when asked', q: { endpoints: [{ ip: '127.0.0.1', port: 9999 }], datasets: ['flow', 'network'] } },
    { name: 'event ids', q: { eventIds: ['a09', 'b03', 'nope'] } },
    { name: 'host filter', q: { endpoints: [{ ip: '127.0.0.1', port: 9999 }], hostIds: ['host-b'] } },
    { name: 'unknown host', q: { paths: ['/tmp/x.sh'], hostIds: ['host-z'] } },
    { name: 'datasets filter', q: { paths: ['/tmp/x.sh'], datasets: ['process'] } },
    { name: 'microsecond window inside one millisecond', q: { paths: ['/tmp/x.sh'], from: t('02.123000'), to: t('02.123500') } },
    { name: 'window bounds inclusive', q: { paths: ['/tmp/x.sh', '/tmp/new'], from: t('03.000000'), to: t('09.000000') } },
    { name: 'to inside a millisecond', q: { endpoints: [{ ip: '127.0.0.1', port: 9999 }], to: t('05.000500') } },
    { name: 'many selectors', q: { entityIds: ['P4', 'Q2'], paths: ['/etc/shadow', '/tmp/z'], endpoints: [{ ip: '10.0.0.2', port: 80 }], eventIds: ['a22'] } },
    { name: 'after: the id breaks the tie', q: { paths: ['/tmp/x.sh', '/tmp/z'], after: { timestamp: t('03.000000'), sequence: 20, id: 'a06' } } },
    { name: 'after: absent sequence sorts first', q: { paths: ['/tmp/new', '/tmp/x.sh'], after: { timestamp: t('09.000000'), sequence: -1, id: 'a20' } } },
    { name: 'after: inside one millisecond across hosts', q: { paths: ['/tmp/x.sh'], after: { timestamp: t('02.123100'), sequence: 10, id: 'b01' } } },
    { name: 'limit', q: { paths: ['/tmp/x.sh'], limit: 3 } },
  ];
}

/** Queries over the workload: every process, every file on each side, every endpoint, in windows. */
export function workloadQueries(events: readonly EcsEvent[]): NamedQuery[] {
  const entities = [...new Set(events.flatMap((e) => (e.process ? [e.process.entity_id] : [])))].sort();
  const paths = [...new Set(events.flatMap((e) => (e.file?.path ? [e.file.path] : [])))].sort();
  const times = events.map((e) => e['@timestamp']).sort();
  const mid = times[Math.floor(times.length / 2)]!;
  const late = times[Math.floor((times.length * 3) / 4)]!;
  const out: NamedQuery[] = [];
  for (let i = 0; i < entities.length; i += 4) out.push({ name: `entities ${i}`, q: { entityIds: entities.slice(i, i + 4) } });
  for (let i = 0; i < paths.length; i += 10) {
    const chunk = paths.slice(i, i + 10);
    out.push({ name: `paths ${i} modify`, q: { paths: chunk, pathAccess: 'modify', to: mid } });
    out.push({ name: `paths ${i} use`, q: { paths: chunk, pathAccess: 'use', from: mid } });
  }
  out.push({ name: 'registry endpoint', q: { endpoints: [{ ip: '104.16.2.35', port: 443 }] } });
  out.push({ name: 'web peer', q: { endpoints: [{ ip: '10.0.0.7' }], from: mid, to: late } });
  out.push({ name: 'host-c only', q: { entityIds: entities.filter((e) => e.startsWith('host-c')), hostIds: ['host-c'] } });
  return out;
}

/** Every page of a query, `limit` at a time, joined: must equal the unpaged answer. */
export async function paged(source: EventSource, q: EventQuery, limit: number): Promise<EcsEvent[]> {
  const out: EcsEvent[] = [];
  let after = q.after;
  for (let guard = 0; guard < 100_000; guard++) {
    const page = await source.fetch({ ...q, limit, ...(after ? { after } : {}) });
    out.push(...page);
    if (page.length < limit) return out;
    after = sortKey(page[page.length - 1]!);
  }
  throw new Error('paging did not end');
}

export const ids = (events: readonly EcsEvent[]) => events.map((e) => e.event.id);
