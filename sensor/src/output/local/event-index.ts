import { Database, type Statement } from 'bun:sqlite';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { MODIFY_ACTIONS, openWrites, type EventQuery } from '../../../../kibana-plugin/common/graph/source.ts';
import { parseTimestamp } from '../../../../kibana-plugin/common/graph/time.ts';
import type { LineLocation } from './jsonl-writer.ts';

/**
 * Bumped whenever the schema changes. An index of another version is dropped and rebuilt from the JSONL files
 * (they are the record; the index only points into them).
 */
export const INDEX_VERSION = 2;

/** `side` bits of a row: what the row's `path` (file.path) means for the file. */
export const SIDE_FILE = 4; // the row has a file.path (not just an exec's executable)
export const SIDE_MODIFY = 1; // it changes the file: creation, write, deletion, chmod, rename target, writable open
export const SIDE_USE = 2; // it feeds from the file: read, open (any flags)

/** `terms.kind`: multi-valued keys, in a side table (rare rows: execs and DNS answers). */
export const TERM_EXEC_PATH = 1; // process.executable and every process.args element of an exec event
export const TERM_RESOLVED_IP = 2; // dns.resolved_ip of a dns document

/** The keys the graph engine and the console look events up by; one row per event. */
export interface IndexKeys {
  /** epoch ms with the sub-millisecond digits of @timestamp as the fraction (exact, for ordering) */
  ts: number;
  /** event.sequence, -1 when absent (it sorts first, like the engine's sortKey) */
  seq: number;
  stream: number;
  dataset: string;
  action: string;
  entityId: string | null;
  parentEntityId: string | null;
  /** file.path, or the executable for exec / already_running events */
  path: string | null;
  /** the other path of the event: the rename source (provmon.file.source_path) */
  path2: string | null;
  /** destination */
  ip: string | null;
  port: number | null;
  /** source */
  ip2: string | null;
  port2: number | null;
  eventId: string;
  hostId: string;
  /** SIDE_* bits */
  side: number;
  /** TERM_* values, or null (most events) */
  terms: [kind: number, value: string][] | null;
}

export function indexKeys(doc: EcsEvent, stream: number): IndexKeys {
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
  return {
    ts: parseTimestamp(doc['@timestamp']),
    seq: doc.event.sequence ?? -1,
    stream,
    dataset: doc.data_stream?.dataset ?? doc.event.dataset,
    action,
    entityId: doc.process?.entity_id ?? null,
    // Only a process's own start names its parent as an edge; elsewhere the parent is context, not a key.
    parentEntityId: action === 'fork' || isExec ? (doc.process?.parent?.entity_id ?? null) : null,
    path: filePath ?? (isExec ? (doc.process?.executable ?? null) : null),
    path2: doc.provmon?.file?.source_path ?? null,
    ip: doc.destination?.ip ?? null,
    port: doc.destination?.port ?? null,
    ip2: doc.source?.ip ?? null,
    port2: doc.source?.port ?? null,
    eventId: doc.event.id,
    hostId: doc.host?.id ?? '',
    side,
    terms,
  };
}

export interface IndexQuery {
  /** epoch ms, inclusive (the whole millisecond) */
  from?: number;
  /** epoch ms, inclusive (the whole millisecond) */
  to?: number;
  datasets?: string[];
  entityIds?: string[];
  paths?: string[];
  /** Path prefixes, e.g. a directory. */
  pathPrefixes?: string[];
  endpoints?: { ip: string; port?: number }[];
  limit?: number;
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  ts REAL NOT NULL, seq INTEGER NOT NULL, stream INTEGER NOT NULL, dataset TEXT NOT NULL, action TEXT NOT NULL,
  entity_id TEXT, parent_entity_id TEXT, path TEXT, path2 TEXT, ip TEXT, port INTEGER, ip2 TEXT, port2 INTEGER,
  event_id TEXT NOT NULL, host INTEGER NOT NULL, side INTEGER NOT NULL,
  file_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_entity ON events (entity_id, ts);
CREATE INDEX IF NOT EXISTS events_parent ON events (parent_entity_id, ts) WHERE parent_entity_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path ON events (path, side, ts) WHERE path IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path2 ON events (path2, ts) WHERE path2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip ON events (ip, port, ts) WHERE ip IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip2 ON events (ip2, port2, ts) WHERE ip2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id);
CREATE TABLE IF NOT EXISTS files (stream INTEGER NOT NULL, file_id INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, end INTEGER NOT NULL, PRIMARY KEY (stream, file_id));
CREATE TABLE IF NOT EXISTS hosts (id INTEGER PRIMARY KEY, host_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS terms (kind INTEGER NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS terms_value ON terms (value, kind);
CREATE INDEX IF NOT EXISTS terms_rid ON terms (rid);
`;

/** `x IN (…)` over a JSON array parameter: one placeholder whatever the list length (no variable limit). */
const inList = (column: string) => `${column} IN (SELECT value FROM json_each(?))`;

export interface EventIndexOptions {
  /** Open an existing index for queries only (no schema changes, no inserts): `provmon graph` beside a running sensor. */
  readonly?: boolean;
}

/**
 * The embedded index beside the JSONL files: it holds keys and the location of each line, not the document, so the
 * JSONL stays the single copy of the data and the index can always be rebuilt from it.
 */
export class EventIndex {
  readonly db: Database;
  /** true when this open found an index of another version (or none) and created a fresh one: rebuild it. */
  readonly rebuilt: boolean = false;
  private readonly insert: Statement | undefined;
  private readonly insertTerm: Statement | undefined;
  private readonly upsertFile: Statement | undefined;
  private pending: unknown[][] = [];
  private pendingTerms: ([kind: number, value: string][] | null)[] = [];
  private readonly hostIds = new Map<string, number>();

  constructor(path: string, options: EventIndexOptions = {}) {
    if (options.readonly) {
      this.db = new Database(path, { readonly: true, strict: true });
      const version = this.db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0;
      if (version !== INDEX_VERSION) {
        this.db.close();
        throw new IndexVersionError(path, version);
      }
      this.loadHosts();
      return;
    }
    this.db = new Database(path, { create: true, strict: true });
    // The index can be rebuilt from the JSONL files, so it trades durability for speed; the files are the record.
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;');
    const version = this.db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0;
    if (version !== INDEX_VERSION) {
      // Another version's keys (or an empty file): start over; LocalStore re-indexes every file it finds.
      this.db.exec('DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS hosts; DROP TABLE IF EXISTS terms; DROP TABLE IF EXISTS files;');
      this.db.exec(SCHEMA);
      this.db.exec(`PRAGMA user_version = ${INDEX_VERSION}`);
      this.rebuilt = true;
    } else {
      this.db.exec(SCHEMA);
    }
    this.loadHosts();
    this.insert = this.db.prepare(
      'INSERT INTO events (ts, seq, stream, dataset, action, entity_id, parent_entity_id, path, path2, ip, port, ip2, port2, event_id, host, side, file_id, offset, length) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertTerm = this.db.prepare('INSERT INTO terms (kind, value, rid) VALUES (?, ?, ?)');
    // Per JSONL file: the rowid range of its rows and the end of its indexed lines. This replaces an index on
    // (stream, file_id, offset), which every insert paid for and only start-up and eviction used.
    this.upsertFile = this.db.prepare(
      'INSERT INTO files (stream, file_id, lo, hi, end) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (stream, file_id) DO UPDATE SET lo = min(lo, excluded.lo), hi = max(hi, excluded.hi), end = max(end, excluded.end)',
    );
  }

  add(keys: IndexKeys, at: LineLocation): void {
    this.pending.push([
      keys.ts, keys.seq, keys.stream, keys.dataset, keys.action, keys.entityId, keys.parentEntityId, keys.path, keys.path2,
      keys.ip, keys.port, keys.ip2, keys.port2, keys.eventId, this.hostNumber(keys.hostId), keys.side, at.fileId, at.offset, at.length,
    ]);
    this.pendingTerms.push(keys.terms);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** One transaction per batch: per-row commits would cap the store at a few thousand events/s. */
  commit(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    const terms = this.pendingTerms;
    this.pending = [];
    this.pendingTerms = [];
    const insert = this.insert!;
    const insertTerm = this.insertTerm!;
    const upsertFile = this.upsertFile!;
    this.db.transaction(() => {
      // rows of one file arrive in runs: track the run's file and extend its range, upsert when it changes
      let stream = -1;
      let fileId = -1;
      let lo = 0;
      let hi = 0;
      let end = 0;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        const r = insert.run(...(row as Parameters<Statement['run']>));
        const rid = Number(r.lastInsertRowid);
        const t = terms[i];
        if (t) for (const [kind, value] of t) insertTerm.run(kind, value, rid);
        const rowStream = row[2] as number;
        const rowFile = row[16] as number;
        const rowEnd = (row[17] as number) + (row[18] as number) + 1;
        if (rowStream !== stream || rowFile !== fileId) {
          if (stream >= 0) upsertFile.run(stream, fileId, lo, hi, end);
          stream = rowStream;
          fileId = rowFile;
          lo = rid;
          end = rowEnd;
        } else if (rowEnd > end) end = rowEnd;
        hi = rid;
      }
      if (stream >= 0) upsertFile.run(stream, fileId, lo, hi, end);
    })();
  }

  /** The end of what is indexed in one file, to find lines a crash left unindexed. */
  indexedEnd(stream: number, fileId: number): number {
    const row = this.db.query<{ end: number }, [number, number]>('SELECT end FROM files WHERE stream = ? AND file_id = ?').get(stream, fileId);
    return row?.end ?? 0;
  }

  removeFile(stream: number, fileId: number): number {
    const f = this.db.query<{ lo: number; hi: number }, [number, number]>('SELECT lo, hi FROM files WHERE stream = ? AND file_id = ?').get(stream, fileId);
    if (!f) return 0;
    const args = [f.lo, f.hi, stream, fileId];
    return this.db.transaction(() => {
      this.db.run('DELETE FROM terms WHERE rid IN (SELECT rowid FROM events WHERE rowid BETWEEN ? AND ? AND stream = ? AND file_id = ?)', args);
      const n = this.db.run('DELETE FROM events WHERE rowid BETWEEN ? AND ? AND stream = ? AND file_id = ?', args).changes;
      this.db.run('DELETE FROM files WHERE stream = ? AND file_id = ?', [stream, fileId]);
      return n;
    })();
  }

  count(): number {
    return this.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM events').get()!.n;
  }

  /** Earliest and latest @timestamp (epoch ms) of the indexed events, for messages about an empty answer. */
  timeRange(): { from: number; to: number } | undefined {
    const row = this.db.query<{ lo: number | null; hi: number | null }, []>('SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM events').get();
    return row?.lo == null || row.hi == null ? undefined : { from: row.lo, to: row.hi };
  }

  search(q: IndexQuery): IndexHit[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.from !== undefined) (where.push('ts >= ?'), args.push(q.from));
    // Whole milliseconds: ts carries the sub-millisecond fraction.
    if (q.to !== undefined) (where.push('ts < ?'), args.push(Math.floor(q.to) + 1));
    if (q.datasets?.length) (where.push(`dataset IN (${q.datasets.map(() => '?').join(',')})`), args.push(...q.datasets));
    const any: string[] = [];
    if (q.entityIds?.length) {
      const marks = q.entityIds.map(() => '?').join(',');
      any.push(`entity_id IN (${marks})`, `parent_entity_id IN (${marks})`);
      args.push(...q.entityIds, ...q.entityIds);
    }
    if (q.paths?.length) {
      const marks = q.paths.map(() => '?').join(',');
      any.push(`path IN (${marks})`, `path2 IN (${marks})`);
      args.push(...q.paths, ...q.paths);
    }
    for (const prefix of q.pathPrefixes ?? []) {
      // Range scan on the path index: [prefix, prefix + U+FFFF)
      any.push('(path >= ? AND path < ?)');
      args.push(prefix, `${prefix}\uffff`);
    }
    for (const e of q.endpoints ?? []) {
      if (e.port === undefined) {
        any.push('ip = ?', 'ip2 = ?');
        args.push(e.ip, e.ip);
      } else {
        any.push('(ip = ? AND port = ?)', '(ip2 = ? AND port2 = ?)');
        args.push(e.ip, e.port, e.ip, e.port);
      }
    }
    if (any.length) where.push(`(${any.join(' OR ')})`);
    const sql =
      `SELECT stream, file_id AS fileId, offset, length FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY ts, seq, event_id${q.limit ? ' LIMIT ?' : ''}`;
    if (q.limit) args.push(q.limit);
    return this.db.query<IndexHit, (string | number)[]>(sql).all(...args);
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
    const datasets = (q.datasets ?? ['process', 'file', 'network', 'dns']).map((d) => `provmon.${d}`);
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
    if (this.insert) this.commit();
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

  /** Small integer per host.id (a store rarely holds more than one), created on first sight. */
  private hostNumber(hostId: string): number {
    const have = this.hostIds.get(hostId);
    if (have !== undefined) return have;
    this.db.run('INSERT OR IGNORE INTO hosts (host_id) VALUES (?)', [hostId]);
    const id = this.db.query<{ id: number }, [string]>('SELECT id FROM hosts WHERE host_id = ?').get(hostId)!.id;
    this.hostIds.set(hostId, id);
    return id;
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
