import { Database } from 'bun:sqlite';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { datasetName, type EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { LineLocation } from './jsonl-writer.ts';
import { DEFAULT_DATASETS, MODIFY_ACTIONS, openWrites, type EventQuery } from '../../../../kibana-plugin/common/graph/source.ts';
import { parseTimestamp } from '../../../../kibana-plugin/common/graph/time.ts';
import { SEARCH_DATASETS, type EventFilter } from '../../../../kibana-plugin/common/search/filter.ts';
import { DURATION_RANGES, FLOW_DOC_FIELDS, HOUR_MS, SCATTER_POINTS, TABLE_ROWS, TABLE_SORTS, flowBytes, getter, valuesOf, type TableSort } from '../../../../kibana-plugin/common/flows/answer.ts';
import { MINUTE_MS, type FlowSums } from '../../../../kibana-plugin/common/flows/flow-sums.ts';
import { wholeMs, type FlowFilter } from '../../../../kibana-plugin/common/flows/filter.ts';

/**
 * Bumped whenever the schema changes. An index of another version is set aside and rebuilt from the JSONL files
 * (they are the record; the index only points into them).
 */
export const INDEX_VERSION = 4;

/** `side` bits of a row: what the row's `path` (file.path) means for the file. */
export const SIDE_FILE = 4; // the row has a file.path (not just an exec's executable)
export const SIDE_MODIFY = 1; // it changes the file: creation, write, deletion, chmod, rename target, writable open
export const SIDE_USE = 2; // it feeds from the file: read, open (any flags)

/** `terms.kind`: multi-valued keys, in a side table (rare rows: execs and DNS answers). */
export const TERM_EXEC_PATH = 1; // process.executable and every process.args element of an exec event
export const TERM_RESOLVED_IP = 2; // dns.resolved_ip of a dns document

/**
 * Appends the index row of one event (index-protocol's flat layout: the `events` columns, host.id as text, then the
 * TERM_* pairs or null) to `out`: the keys the graph engine and the console look events up by, and where the line is.
 */
export function pushIndexRow(out: unknown[], doc: EcsEvent, stream: number, at: LineLocation): void {
  const action = doc.event.action;
  const isExec = action === 'exec' || action === 'already_running';
  const filePath = doc.file?.path ?? null;
  let side = 0;
  if (filePath !== null) {
    side = SIDE_FILE;
    if (action === 'read') side |= SIDE_USE;
    else if (action === 'open') side |= SIDE_USE | (openWrites(doc.provmon?.open?.flags) ? SIDE_MODIFY : 0);
    else if (MODIFY_ACTIONS.has(action)) side |= SIDE_MODIFY;
  }
  let terms: [number, string][] | null = null;
  if (action === 'exec' && doc.process) {
    const values = new Set<string>();
    if (doc.process.executable) values.add(doc.process.executable);
    for (const a of doc.process.args ?? []) values.add(a);
    terms = [...values].map((v) => [TERM_EXEC_PATH, v]);
  } else if (doc.dns?.resolved_ip?.length && doc.event.dataset === 'provmon.dns') {
    terms = [...new Set(doc.dns.resolved_ip)].map((v) => [TERM_RESOLVED_IP, v]);
  }
  const p = doc.process;
  out.push(
    // ts: epoch ms with the sub-millisecond digits of @timestamp as the fraction (exact, for ordering)
    parseTimestamp(doc['@timestamp']),
    // seq: -1 when absent (it sorts first, like the engine's sortKey)
    doc.event.sequence ?? -1,
    stream,
    doc.data_stream?.dataset ?? doc.event.dataset,
    action,
    p?.entity_id ?? null,
    // Only a process's own start names its parent as an edge; elsewhere the parent is context, not a key.
    action === 'fork' || isExec ? (p?.parent?.entity_id ?? null) : null,
    // path: file.path, or the executable for exec / already_running events; path2: the rename source
    filePath ?? (isExec ? (p?.executable ?? null) : null),
    doc.provmon?.file?.source_path ?? null,
    doc.destination?.ip ?? null,
    doc.destination?.port ?? null,
    doc.source?.ip ?? null,
    doc.source?.port ?? null,
    doc.event.id,
    doc.host?.id ?? '',
    side,
    at.fileId,
    at.offset,
    at.length,
    // The events search's own keys (common/search/filter.ts): so its counts can be aggregated in the index.
    doc.event.outcome ?? null,
    p?.name ?? null,
    p?.pid ?? null,
    p?.parent?.pid ?? null,
    p?.parent?.entity_id ?? null,
    doc.host?.name ?? null,
    terms,
    flowValues(doc),
  );
}

/** A final flow report's `flows` values (FLOW_COLUMNS' order), or null for any other document. */
function flowValues(doc: EcsEvent): unknown[] | null {
  if (doc.provmon?.flow?.final !== true || (doc.data_stream?.dataset ?? doc.event.dataset) !== 'provmon.flow') return null;
  const slim: Record<string, unknown> = {};
  for (const path of FLOW_DOC_FIELDS) {
    const value = getter(path)(doc);
    if (value.length === 0) continue;
    const parts = path.split('.');
    let at = slim;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts[parts.length - 1]!] = valueAt(doc, parts);
  }
  const number = (path: string) => {
    const v = valuesOf(doc, path)[0];
    return typeof v === 'number' ? v : null;
  };
  return [
    doc.host?.name ?? null, doc.network?.transport ?? null, doc.source?.ip ?? null, doc.destination?.ip ?? null, doc.source?.port ?? null,
    doc.destination?.port ?? null, doc.source?.domain ?? null, doc.destination?.domain ?? null, doc.process?.name ?? null,
    number(TABLE_SORTS.bytes), number(TABLE_SORTS.packets), number(TABLE_SORTS.duration), flowBytes(doc), JSON.stringify(slim),
  ];
}

function valueAt(doc: unknown, parts: string[]): unknown {
  let cur = doc;
  for (const part of parts) cur = (cur as Record<string, unknown>)[part];
  return cur;
}

export interface TimeWindow {
  from?: string;
  to?: string;
}

/** The events search's summary counts, as the index computes them. */
export interface EventCounts {
  total: number;
  actions: Record<string, number>;
  failures: number;
  processes: number;
  hosts: number;
}

export interface IndexHit {
  stream: number;
  fileId: number;
  offset: number;
  length: number;
}

export interface EventHit extends IndexHit {
  eventId: string;
}

/** `flow_minutes`' per-class flow counts, one column per DURATION_RANGES entry. */
export const DURATION_COLUMNS = DURATION_RANGES.map((_, i) => `d${i}`);

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  ts REAL NOT NULL, seq INTEGER NOT NULL, stream INTEGER NOT NULL, dataset TEXT NOT NULL, action TEXT NOT NULL,
  entity_id TEXT, parent_entity_id TEXT, path TEXT, path2 TEXT, ip TEXT, port INTEGER, ip2 TEXT, port2 INTEGER,
  event_id TEXT NOT NULL, host INTEGER NOT NULL, side INTEGER NOT NULL,
  file_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
  outcome TEXT, pname TEXT, pid INTEGER, ppid INTEGER, pparent TEXT, hname TEXT
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_entity ON events (entity_id, ts);
CREATE INDEX IF NOT EXISTS events_parent ON events (parent_entity_id, ts) WHERE parent_entity_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path ON events (path, side, ts) WHERE path IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path2 ON events (path2, ts) WHERE path2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip ON events (ip, port, ts) WHERE ip IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip2 ON events (ip2, port2, ts) WHERE ip2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id);
CREATE TABLE IF NOT EXISTS rollup (
  stream INTEGER NOT NULL, file_id INTEGER NOT NULL, minute INTEGER NOT NULL, dataset TEXT NOT NULL, action TEXT NOT NULL,
  outcome TEXT NOT NULL, host INTEGER NOT NULL, hname TEXT NOT NULL, entity_id TEXT NOT NULL, pparent TEXT NOT NULL,
  pname TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (stream, file_id, minute, dataset, action, outcome, host, hname, entity_id, pparent, pname, pid, ppid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flows (
  ts REAL NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL, stream INTEGER NOT NULL, file_id INTEGER NOT NULL,
  hname TEXT, transport TEXT, sip TEXT, dip TEXT, sport INTEGER, dport INTEGER, sdomain TEXT, ddomain TEXT, pname TEXT,
  bytes INTEGER, packets INTEGER, duration INTEGER, scatter_bytes INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (ts, seq, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS flows_file ON flows (stream, file_id);
CREATE INDEX IF NOT EXISTS flows_scatter ON flows (scatter_bytes DESC, event_id, ts, packets, transport);
CREATE INDEX IF NOT EXISTS flows_bytes ON flows (bytes DESC, event_id, ts);
CREATE INDEX IF NOT EXISTS flows_packets ON flows (packets DESC, event_id, ts);
CREATE INDEX IF NOT EXISTS flows_duration ON flows (duration DESC, event_id, ts);
CREATE TABLE IF NOT EXISTS flow_minutes (
  stream INTEGER NOT NULL, file_id INTEGER NOT NULL, minute INTEGER NOT NULL, flows INTEGER NOT NULL, bytes INTEGER NOT NULL,
  packets INTEGER NOT NULL, dns_resolved INTEGER NOT NULL, with_process INTEGER NOT NULL, ${DURATION_COLUMNS.map((c) => `${c} INTEGER NOT NULL`).join(', ')},
  PRIMARY KEY (stream, file_id, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flow_keys (
  stream INTEGER NOT NULL, file_id INTEGER NOT NULL, hour INTEGER NOT NULL, field INTEGER NOT NULL, key TEXT NOT NULL,
  flows INTEGER NOT NULL, bytes INTEGER NOT NULL, packets INTEGER NOT NULL, first_seen REAL,
  label TEXT, label_ts REAL, label_seq INTEGER, label_eid TEXT,
  PRIMARY KEY (stream, file_id, hour, field, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (stream INTEGER NOT NULL, file_id INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, end INTEGER NOT NULL, PRIMARY KEY (stream, file_id));
CREATE TABLE IF NOT EXISTS hosts (id INTEGER PRIMARY KEY, host_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS terms (kind INTEGER NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS terms_value ON terms (value, kind);
CREATE INDEX IF NOT EXISTS terms_rid ON terms (rid);
`;

/**
 * `rollup`: the events search's keys (common/search/filter.ts) counted per minute and JSONL file, kept by the writer
 * in the transaction that inserts the rows, so counts over a window read a row per (minute, process, action, …)
 * instead of a row per event. Absent values are '' and -1 (sqlite's NULLs are never equal in a key); the search
 * never asks for those. Its file columns let a deleted file take its counts with it.
 */
export const ROLLUP_MINUTE_MS = 60_000;

/**
 * `flows`: each final flow report (the one that carries the flow's totals, common/flows/filter.ts) with the fields
 * the flows answer reads (FLOW_DOC_FIELDS) as a small JSON document, clustered in time order, plus the columns a
 * flow filter narrows by. The flows route aggregates these instead of reading every flow line of the JSONL files.
 */
export const FLOW_COLUMNS = ['hname', 'transport', 'sip', 'dip', 'sport', 'dport', 'sdomain', 'ddomain', 'pname', 'bytes', 'packets', 'duration', 'scatter_bytes', 'doc'] as const;

/**
 * `flow_minutes` and `flow_keys`: the flows answer's partial sums (common/flows/flow-sums.ts) of each JSONL file's
 * final flow reports, per minute (totals, series, durations) and per hour and key field value (ranked charts, with
 * the earliest start and the label of the earliest flow), kept by the writer in the transaction that inserts the
 * flows. A time-only window reads its whole hours' sums and the flows of its two partial edge hours. Scatter points
 * and the table are the largest flows by a column: one index each, read to their limit.
 */
export const FLOW_KEY_HOUR_MS = HOUR_MS;
export const ROLLUP_KEYS = ['dataset', 'action', 'outcome', 'host', 'hname', 'entity_id', 'pparent', 'pname', 'pid', 'ppid'] as const;

/** `x IN (…)` over a JSON array parameter: one placeholder whatever the list length (no variable limit). */
const inList = (column: string) => `${column} IN (SELECT value FROM json_each(?))`;

/** The columns of `events`, in SCHEMA's order: what a row of this version must have. */
export const EVENT_COLUMNS = [
  'ts', 'seq', 'stream', 'dataset', 'action', 'entity_id', 'parent_entity_id', 'path', 'path2', 'ip', 'port', 'ip2', 'port2',
  'event_id', 'host', 'side', 'file_id', 'offset', 'length', 'outcome', 'pname', 'pid', 'ppid', 'pparent', 'hname',
] as const;

/**
 * What is wrong with an index file, or undefined when it is one this provmon can use. Cheap (the header, the
 * schema, the file size): a damaged page found later is caught where it is read.
 */
export function indexProblem(db: Database, path: string): IndexProblem | undefined {
  const version = db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0;
  if (version !== INDEX_VERSION) return { kind: 'version', version, message: `it has format version ${version}; this provmon uses ${INDEX_VERSION}` };
  const columns = db.query<{ name: string }, []>("SELECT name FROM pragma_table_info('events')").all().map((c) => c.name);
  const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
  if (columns.join(',') !== EVENT_COLUMNS.join(',') || !['files', 'hosts', 'terms', 'rollup', 'flows', 'flow_minutes', 'flow_keys'].every((t) => tables.includes(t))) {
    return { kind: 'schema', message: 'its tables are not the ones this provmon writes' };
  }
  // A file cut short still opens, and its header still counts the pages it had: compare with what is there. Not
  // while a write-ahead log holds pages: an interrupted checkpoint (a full disk) leaves the file short, not damaged.
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) return undefined;
  const pageSize = db.query<{ page_size: number }, []>('PRAGMA page_size').get()!.page_size;
  const header = new Uint8Array(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 4, 28);
    const pages = new DataView(header.buffer).getUint32(0);
    const size = fstatSync(fd).size;
    if (pages * pageSize > size) return { kind: 'damaged', message: `it is cut short (${size} of ${pages * pageSize} bytes)` };
  } finally {
    closeSync(fd);
  }
  return undefined;
}

export interface IndexProblem {
  kind: 'version' | 'schema' | 'damaged';
  version?: number;
  message: string;
}

/** sqlite's words for a file that is not a usable database: what quarantine is for. */
export function isDamageError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed|disk image/i.test(String((error as Error).message));
}

/**
 * The embedded index beside the JSONL files, read side: it holds keys and the location of each line, not the
 * document, so the JSONL stays the single copy of the data and the index can always be rebuilt from it. Only the
 * index worker (index-writer.ts) writes it; readers open it read-only, so they can run beside a writing sensor.
 */
/**
 * `matchesFilter` (common/search/filter.ts) as a WHERE clause over the columns `events` and `rollup` share, plus
 * the search's datasets; undefined for free text (a substring of several fields: no column holds it).
 */
function filterWhere(f: EventFilter): { where: string; args: (string | number)[] } | undefined {
  if (f.text) return undefined;
  const where: string[] = [inList('dataset')];
  const args: (string | number)[] = [JSON.stringify(SEARCH_DATASETS.map(datasetName))];
  if (f.hosts?.length) {
    where.push(`(${inList('hname')} OR host IN (SELECT id FROM hosts WHERE ${inList('host_id')}))`);
    args.push(JSON.stringify(f.hosts), JSON.stringify(f.hosts));
  }
  if (f.actions?.length) (where.push(inList('action')), args.push(JSON.stringify(f.actions)));
  if (f.outcome) (where.push('outcome = ?'), args.push(f.outcome));
  if (f.processName !== undefined) (where.push('pname = ?'), args.push(f.processName));
  if (f.pid !== undefined) (where.push('pid = ?'), args.push(f.pid));
  if (f.ppid !== undefined) (where.push('ppid = ?'), args.push(f.ppid));
  if (f.entityId !== undefined) (where.push('(entity_id = ? OR pparent = ?)'), args.push(f.entityId, f.entityId));
  return { where: where.join(' AND '), args };
}

/** A flows window in whole milliseconds, `hi` exclusive; open ends are infinite. */
export interface FlowSpan {
  lo: number;
  hi: number;
}

type MinuteRow = unknown[];

/** `flows`' column per table sort (TABLE_SORTS' fields, absent = NULL). */
const TABLE_COLUMNS: Record<TableSort, 'bytes' | 'packets' | 'duration'> = { bytes: 'bytes', packets: 'packets', duration: 'duration' };

/** A flow filter's window as a span (filter.ts compares whole milliseconds, both ends inclusive). */
export function flowSpan(f: { from?: string; to?: string }): FlowSpan {
  return { lo: f.from ? wholeMs(f.from) : -Infinity, hi: f.to ? wholeMs(f.to) + 1 : Infinity };
}

const spanWhere = (s: FlowSpan) => ['1', ...(s.lo > -Infinity ? ['ts >= ?'] : []), ...(s.hi < Infinity ? ['ts < ?'] : [])];
const spanArgs = (s: FlowSpan) => [...(s.lo > -Infinity ? [s.lo] : []), ...(s.hi < Infinity ? [s.hi] : [])];

/** The columns the events search's counts group by (searchEventsPage). */
const MINUTE_MATCH_COLUMNS = 'action, outcome, entity_id, host';

/** One group of overviewCounts: pname '' or null when the events have no process name. */
export interface OverviewRow {
  dataset: string;
  action: string;
  pname: string | null;
  hostId: string;
  n: number;
  /** the group's first and last minute (epoch minutes): where a host's first, last or latest health event lies */
  firstMinute: number;
  lastMinute: number;
}

export class EventIndex {
  readonly db: Database;
  private readonly hostIds = new Map<string, number>();

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, strict: true });
    try {
      const problem = indexProblem(this.db, path);
      if (problem?.kind === 'version') throw new IndexVersionError(path, problem.version ?? 0);
      if (problem) throw new IndexDamagedError(path, problem.message);
      this.loadHosts();
    } catch (error) {
      this.db.close();
      if (error instanceof IndexVersionError || error instanceof IndexDamagedError) throw error;
      if (isDamageError(error)) throw new IndexDamagedError(path, (error as Error).message);
      throw error;
    }
  }

  count(): number {
    return this.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM events').get()!.n;
  }

  /** Earliest and latest @timestamp (epoch ms) of the indexed events, for messages about an empty answer. */
  timeRange(): { from: number; to: number } | undefined {
    const row = this.db.query<{ lo: number | null; hi: number | null }, []>('SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM events').get();
    return row?.lo == null || row.hi == null ? undefined : { from: row.lo, to: row.hi };
  }

  /**
   * The graph engine's query (kibana-plugin/common/graph/source.ts states the semantics; `matchesQuery` there is
   * the reference): selectors OR-ed, each through its own index, then time, dataset and host filters, ordered by
   * (@timestamp, event.sequence, event.id) and paged strictly after `after`.
   */
  searchEvents(q: EventQuery): EventHit[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const from = q.from === undefined ? undefined : parseTimestamp(q.from);
    const to = q.to === undefined ? undefined : parseTimestamp(q.to);
    if (from !== undefined) (where.push('ts >= ?'), args.push(from));
    if (to !== undefined) (where.push('ts <= ?'), args.push(to));
    if (q.after) {
      const t = parseTimestamp(q.after.timestamp);
      where.push('ts >= ? AND (ts > ? OR (ts = ? AND (seq > ? OR (seq = ? AND event_id > ?))))');
      args.push(t, t, t, q.after.sequence, q.after.sequence, q.after.id);
    }
    const datasets = (q.datasets ?? DEFAULT_DATASETS).map(datasetName);
    where.push(inList('dataset'));
    args.push(JSON.stringify(datasets));
    if (q.hostIds) {
      const hosts = q.hostIds.map((h) => this.hostIds.get(h) ?? this.lookupHost(h)).filter((n): n is number => n !== undefined);
      if (hosts.length === 0) return [];
      where.push(inList('host'));
      args.push(JSON.stringify(hosts));
    }

    const any: string[] = [];
    const anyArgs: (string | number)[] = [];
    const list = (values: readonly (string | number)[]) => JSON.stringify(values);
    if (q.eventIds?.length) (any.push(inList('event_id')), anyArgs.push(list(q.eventIds)));
    if (q.entityIds?.length) {
      any.push(inList('entity_id'), inList('parent_entity_id'));
      anyArgs.push(list(q.entityIds), list(q.entityIds));
    }
    if (q.paths?.length) {
      const sides =
        q.pathAccess === 'modify'
          ? [SIDE_FILE | SIDE_MODIFY, SIDE_FILE | SIDE_MODIFY | SIDE_USE]
          : q.pathAccess === 'use'
            ? [SIDE_FILE | SIDE_USE, SIDE_FILE | SIDE_MODIFY | SIDE_USE]
            : [SIDE_FILE, SIDE_FILE | SIDE_MODIFY, SIDE_FILE | SIDE_USE, SIDE_FILE | SIDE_MODIFY | SIDE_USE];
      any.push(`(${inList('path')} AND side IN (${sides.join(',')}))`);
      anyArgs.push(list(q.paths));
      if (q.pathAccess !== 'modify') {
        any.push(inList('path2'), `rowid IN (SELECT rid FROM terms WHERE kind = ${TERM_EXEC_PATH} AND ${inList('value')})`);
        anyArgs.push(list(q.paths), list(q.paths));
      }
    }
    if (q.endpoints?.length) {
      const bare = [...new Set(q.endpoints.filter((e) => e.port === undefined).map((e) => e.ip))];
      if (bare.length) {
        any.push(inList('ip'), inList('ip2'));
        anyArgs.push(list(bare), list(bare));
      }
      for (const e of q.endpoints) {
        if (e.port === undefined) continue;
        any.push('(ip = ? AND port = ?)', '(ip2 = ? AND port2 = ?)');
        anyArgs.push(e.ip, e.port, e.ip, e.port);
      }
      any.push(`rowid IN (SELECT rid FROM terms WHERE kind = ${TERM_RESOLVED_IP} AND ${inList('value')})`);
      anyArgs.push(list([...new Set(q.endpoints.map((e) => e.ip))]));
    }
    if (any.length) {
      where.push(`(${any.join(' OR ')})`);
      args.push(...anyArgs);
    }
    let sql = `SELECT stream, file_id AS fileId, offset, length, event_id AS eventId FROM events WHERE ${where.join(' AND ')} ORDER BY ts, seq, event_id`;
    if (q.limit !== undefined) {
      sql += ' LIMIT ?';
      args.push(q.limit);
    }
    return this.db.query<EventHit, (string | number)[]>(sql).all(...args);
  }

  /**
   * The events search (common/search/filter.ts's `matchesFilter` is the meaning; this is it over the index's
   * columns): counts over every match of a window and the locations of one page, newest or oldest first by
   * (@timestamp, event.sequence, event.id), without reading a document. Whole minutes inside the window are counted
   * from `rollup`; only the window's partial edge minutes and the minutes the page falls in read `events` rows.
   * Undefined when the filter has free text: no column holds what it searches.
   */
  searchEventsPage(window: TimeWindow, filter: EventFilter, sort: 'asc' | 'desc', limit: number, offset: number): { counts: EventCounts; hits: EventHit[] } | undefined {
    const f = filterWhere(filter);
    if (!f) return undefined;
    const m = this.matchesPerMinute(window, f);
    const counts: EventCounts = { total: 0, actions: {}, failures: 0, processes: 0, hosts: 0 };
    const processes = new Set<string>();
    const hosts = new Set<number>();
    const perMinute = new Map<number, number>();
    const noHost = this.hostIds.get('') ?? this.lookupHost('');
    // One pass over the matches (the edge minutes' rows are read once): a row per minute and group.
    for (const row of this.db
      .query<{ minute: number; action: string; failed: number; entity_id: string | null; host: number; n: number }, (string | number)[]>(
        `WITH m AS (${m.sql}) SELECT minute, action, outcome = 'failure' AS failed, entity_id, host, SUM(n) AS n FROM m GROUP BY minute, action, failed, entity_id, host`,
      )
      .all(...m.args)) {
      counts.total += row.n;
      counts.actions[row.action] = (counts.actions[row.action] ?? 0) + row.n;
      if (row.failed) counts.failures += row.n;
      if (row.entity_id) processes.add(row.entity_id);
      if (row.host !== noHost) hosts.add(row.host);
      perMinute.set(row.minute, (perMinute.get(row.minute) ?? 0) + row.n);
    }
    counts.processes = processes.size;
    counts.hosts = hosts.size;
    if (counts.total <= offset) return { counts, hits: [] };

    // The minutes the page falls in, and how many matches come before them in the page's order.
    const dir = sort === 'asc' ? 'ASC' : 'DESC';
    const minutes = [...perMinute].map(([minute, n]) => ({ minute, n })).sort((x, y) => (sort === 'asc' ? x.minute - y.minute : y.minute - x.minute));
    let before = 0;
    let covered = 0;
    let first: number | undefined;
    let last = 0;
    for (const { minute, n } of minutes) {
      if (first === undefined) {
        if (before + n <= offset) {
          before += n;
          continue;
        }
        first = minute;
      }
      last = minute;
      covered += n;
      if (before + covered >= offset + limit) break;
    }
    const lo = Math.max(Math.min(first!, last) * ROLLUP_MINUTE_MS, window.from === undefined ? -Infinity : parseTimestamp(window.from));
    const hiMinute = (Math.max(first!, last) + 1) * ROLLUP_MINUTE_MS;
    const to = window.to === undefined ? undefined : parseTimestamp(window.to);
    const hits = this.db
      .query<EventHit, (string | number)[]>(
        `SELECT stream, file_id AS fileId, offset, length, event_id AS eventId FROM events WHERE ${f.where} AND ts >= ? AND ts < ?${to === undefined ? '' : ' AND ts <= ?'} ` +
          `ORDER BY ts ${dir}, seq ${dir}, event_id ${dir} LIMIT ? OFFSET ?`,
      )
      .all(...f.args, lo, hiMinute, ...(to === undefined ? [] : [to]), limit, offset - before);
    return { counts, hits };
  }

  /**
   * Every event of a window (datasets given) counted per dataset, action, process name and host, from `rollup` and
   * the window's partial edge minutes; and per host its first and last event and its latest health documents.
   */
  overviewCounts(window: TimeWindow, datasets: readonly string[]): OverviewRow[] {
    const m = this.matchesPerMinute(window, { where: inList('dataset'), args: [JSON.stringify(datasets)] }, 'dataset, action, pname, host');
    return this.db
      .query<OverviewRow, (string | number)[]>(
        `WITH m AS (${m.sql}) SELECT dataset, action, pname, h.host_id AS hostId, SUM(n) AS n, MIN(minute) AS firstMinute, MAX(minute) AS lastMinute ` +
          'FROM m JOIN hosts h ON h.id = m.host GROUP BY dataset, action, pname, h.host_id',
      )
      .all(...m.args);
  }

  /**
   * A host's events in a window (datasets given), newest or oldest first, at most `limit`. Callers narrow the window
   * to the minutes where those events lie (overviewCounts says): a host's rows are found by time, not by host.
   */
  hostEvents(window: TimeWindow, datasets: readonly string[], hostId: string, order: 'asc' | 'desc', limit: number): EventHit[] {
    const host = this.hostIds.get(hostId) ?? this.lookupHost(hostId);
    if (host === undefined) return [];
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    const where = ['host = ?', inList('dataset')];
    const args: (string | number)[] = [host, JSON.stringify(datasets)];
    if (window.from !== undefined) (where.push('ts >= ?'), args.push(parseTimestamp(window.from)));
    if (window.to !== undefined) (where.push('ts <= ?'), args.push(parseTimestamp(window.to)));
    return this.db
      .query<EventHit, (string | number)[]>(
        `SELECT stream, file_id AS fileId, offset, length, event_id AS eventId FROM events WHERE ${where.join(' AND ')} ORDER BY ts ${dir}, seq ${dir}, event_id ${dir} LIMIT ?`,
      )
      .all(...args, limit);
  }

  /**
   * A subquery of every match of the window as (minute, ...columns, n): whole minutes from
   * `rollup`, the partial minutes at the window's edges from `events` (one row each).
   */
  private matchesPerMinute(window: TimeWindow, f: { where: string; args: (string | number)[] }, columns = MINUTE_MATCH_COLUMNS): { sql: string; args: (string | number)[] } {
    const from = window.from === undefined ? undefined : parseTimestamp(window.from);
    const to = window.to === undefined ? undefined : parseTimestamp(window.to);
    // Whole minutes: [firstWhole, lastWhole], every event of which lies inside [from, to].
    const firstWhole = from === undefined ? undefined : Math.ceil(from / ROLLUP_MINUTE_MS);
    const lastWhole = to === undefined ? undefined : Math.floor(to / ROLLUP_MINUTE_MS) - 1;
    const rows = (range: string) => `SELECT CAST(ts / ${ROLLUP_MINUTE_MS} AS INTEGER) AS minute, ${columns}, 1 AS n FROM events WHERE ${f.where} AND ${range}`;
    if (firstWhole !== undefined && lastWhole !== undefined && firstWhole > lastWhole) return { sql: rows('ts >= ? AND ts <= ?'), args: [...f.args, from!, to!] };
    const parts = [`SELECT minute, ${columns}, n FROM rollup WHERE ${f.where}${firstWhole === undefined ? '' : ' AND minute >= ?'}${lastWhole === undefined ? '' : ' AND minute <= ?'}`];
    const args: (string | number)[] = [...f.args, ...(firstWhole === undefined ? [] : [firstWhole]), ...(lastWhole === undefined ? [] : [lastWhole])];
    if (from !== undefined) (parts.push(rows('ts >= ? AND ts < ?')), args.push(...f.args, from, firstWhole! * ROLLUP_MINUTE_MS));
    if (to !== undefined) (parts.push(rows('ts >= ? AND ts <= ?')), args.push(...f.args, (lastWhole! + 1) * ROLLUP_MINUTE_MS, to));
    return { sql: parts.join(' UNION ALL '), args };
  }

  /**
   * The final flow reports a flow filter can match (common/flows/filter.ts: its columns, its whole-millisecond
   * window), as their FLOW_DOC_FIELDS documents, in time order; the caller keeps what flowPredicate keeps.
   */
  flowDocs(f: FlowFilter): Generator<string> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.host) (where.push('hname = ?'), args.push(f.host));
    if (f.transport) (where.push('transport = ?'), args.push(f.transport));
    if (f.ip) (where.push('(sip = ? OR dip = ?)'), args.push(f.ip, f.ip));
    if (f.port !== undefined) (where.push('(sport = ? OR dport = ?)'), args.push(f.port, f.port));
    if (f.domain) (where.push('(sdomain = ? OR ddomain = ?)'), args.push(f.domain, f.domain));
    if (f.process) (where.push('pname = ?'), args.push(f.process));
    return this.flowDocsBetween(flowSpan(f), where, args);
  }

  /** Final flow reports' documents in [lo, hi) (whole-ms bounds; ts is finer), time order, streamed row by row. */
  *flowDocsBetween(span: FlowSpan, where: string[] = [], args: (string | number)[] = []): Generator<string> {
    const sql = `SELECT doc FROM flows WHERE ${[...spanWhere(span), ...where].join(' AND ')} ORDER BY ts, seq, event_id`;
    // A million flows are never held at once.
    for (const row of this.db.query<{ doc: string }, (string | number)[]>(sql).iterate(...spanArgs(span), ...args)) yield row.doc;
  }

  /** Adds the pre-summed minutes and keys of whole hours [firstHour, lastHour] to `sums`, in time order. */
  addFlowHours(sums: FlowSums, firstHour: number, lastHour: number): void {
    const perHour = FLOW_KEY_HOUR_MS / MINUTE_MS;
    const minutes = this.db
      .query<MinuteRow, [number, number]>(
        `SELECT minute, SUM(flows) AS flows, SUM(bytes) AS bytes, SUM(packets) AS packets, SUM(dns_resolved) AS dns_resolved, SUM(with_process) AS with_process, ` +
          `${DURATION_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ')} FROM flow_minutes WHERE minute >= ? AND minute < ? GROUP BY minute`,
      )
      .values(firstHour * perHour, (lastHour + 1) * perHour);
    for (const m of minutes) {
      sums.addMinute(m[0] as number, { flows: m[1] as number, bytes: m[2] as number, packets: m[3] as number, dns_resolved: m[4] as number, with_process: m[5] as number, durations: m.slice(6) as number[] });
    }
    // Hour by hour, each hour's rows earliest label first: the first label added for a key is its earliest flow's.
    const keys = this.db
      .query<unknown, [number, number]>(
        'SELECT field, key, flows, bytes, packets, first_seen, label FROM flow_keys WHERE hour >= ? AND hour <= ? ORDER BY hour, label_ts, label_seq, label_eid',
      )
      .values(firstHour, lastHour) as [number, string, number, number, number, number | null, string | null][];
    for (const [field, key, flows, bytes, packets, firstSeen, label] of keys) sums.addKey(field, key, flows, bytes, packets, firstSeen ?? undefined, label ?? undefined);
  }

  /**
   * The scatter plot's points of a span: the largest flows by bytes (absent = 0), ties by event.id. `flows`: how
   * many the span holds, which picks the plan (see largestFlows).
   */
  flowScatter(span: FlowSpan, flows: number): { bytes: number; packets: number; transport: string }[] {
    return this.largestFlows<{ bytes: number; packets: number; transport: string }>(
      span, flows, 'flows_scatter', "scatter_bytes AS bytes, COALESCE(packets, 0) AS packets, COALESCE(transport, '') AS transport", 'scatter_bytes', SCATTER_POINTS,
    );
  }

  /** The table's flows of a span as documents: the largest by the sort column (absent last), ties by event.id. */
  flowTable(span: FlowSpan, flows: number, sort: TableSort): string[] {
    const column = TABLE_COLUMNS[sort];
    return this.largestFlows<{ doc: string }>(span, flows, `flows_${column}`, 'doc', column, TABLE_ROWS).map((r) => r.doc);
  }

  /**
   * The `limit` largest flows of a span by `column`. Walking the column's index (which holds ts) stops after about
   * limit × all / flows entries; reading the span in time order and sorting costs about `flows`. sqlite cannot
   * know how many flows a span holds, so it is told which: the index when that walk is the shorter one.
   */
  private largestFlows<T>(span: FlowSpan, flows: number, index: string, select: string, column: string, limit: number): T[] {
    const all = this.db.query<{ n: number | null }, []>('SELECT SUM(flows) AS n FROM flow_minutes').get()?.n ?? 0;
    const walk = flows === 0 ? Infinity : (limit * all) / flows;
    const from = walk < flows ? `flows INDEXED BY ${index}` : 'flows';
    return this.db
      .query<T, (string | number)[]>(`SELECT ${select} FROM ${from} WHERE ${spanWhere(span).join(' AND ')} ORDER BY ${column} DESC, event_id LIMIT ${limit}`)
      .all(...spanArgs(span));
  }

  /** The latest process starts (fork, exec, already_running), in time order: finding a process by pid. */
  lineage(limit: number): EventHit[] {
    return this.db
      .query<EventHit, [number]>(
        "SELECT stream, file_id AS fileId, offset, length, event_id AS eventId FROM events WHERE dataset = 'provmon.process' AND action IN ('fork', 'exec', 'already_running') ORDER BY ts DESC LIMIT ?",
      )
      .all(limit)
      .reverse();
  }

  close(): void {
    this.db.close();
  }

  private loadHosts(): void {
    for (const row of this.db.query<{ id: number; host_id: string }, []>('SELECT id, host_id FROM hosts').all()) this.hostIds.set(row.host_id, row.id);
  }

  private lookupHost(hostId: string): number | undefined {
    const row = this.db.query<{ id: number }, [string]>('SELECT id FROM hosts WHERE host_id = ?').get(hostId);
    if (row) this.hostIds.set(hostId, row.id);
    return row?.id;
  }
}

export class IndexVersionError extends Error {
  constructor(
    readonly path: string,
    readonly version: number,
  ) {
    super(`${path} is an index of version ${version}; this provmon reads version ${INDEX_VERSION}`);
    this.name = 'IndexVersionError';
  }
}

export class IndexDamagedError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} is damaged: ${reason}`);
    this.name = 'IndexDamagedError';
  }
}
