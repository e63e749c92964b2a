import { Database, type Statement } from 'bun:sqlite';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { LineLocation } from './jsonl-writer.ts';

/** The keys the graph engine and the console look events up by; one row per event. */
export interface IndexKeys {
  ts: number;
  seq: number;
  stream: number;
  dataset: string;
  action: string;
  entityId: string | null;
  parentEntityId: string | null;
  /** file.path, or the executable for exec events */
  path: string | null;
  /** the other path of the event: rename source, or the executable of a file event's process */
  path2: string | null;
  ip: string | null;
  port: number | null;
  ip2: string | null;
  port2: number | null;
}

export function indexKeys(doc: EcsEvent, stream: number): IndexKeys {
  const action = doc.event.action;
  const isExec = action === 'exec' || action === 'already_running';
  return {
    ts: Date.parse(doc['@timestamp']),
    seq: doc.event.sequence ?? 0,
    stream,
    dataset: doc.event.dataset,
    action,
    entityId: doc.process?.entity_id ?? null,
    // Only a process's own start names its parent as an edge; elsewhere the parent is context, not a key.
    parentEntityId: action === 'fork' || isExec ? (doc.process?.parent?.entity_id ?? null) : null,
    path: doc.file?.path ?? (isExec ? (doc.process?.executable ?? null) : null),
    path2: doc.provmon?.file?.source_path ?? null,
    ip: doc.destination?.ip ?? null,
    port: doc.destination?.port ?? null,
    ip2: doc.source?.ip ?? null,
    port2: doc.source?.port ?? null,
  };
}

export interface IndexQuery {
  /** epoch ms, inclusive */
  from?: number;
  /** epoch ms, inclusive */
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  ts INTEGER NOT NULL, seq INTEGER NOT NULL, stream INTEGER NOT NULL, dataset TEXT NOT NULL, action TEXT NOT NULL,
  entity_id TEXT, parent_entity_id TEXT, path TEXT, path2 TEXT, ip TEXT, port INTEGER, ip2 TEXT, port2 INTEGER,
  file_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_entity ON events (entity_id, ts);
CREATE INDEX IF NOT EXISTS events_parent ON events (parent_entity_id) WHERE parent_entity_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path ON events (path) WHERE path IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_path2 ON events (path2) WHERE path2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip ON events (ip, port) WHERE ip IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_ip2 ON events (ip2, port2) WHERE ip2 IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_file ON events (stream, file_id, offset);
`;

/**
 * The embedded index beside the JSONL files: it holds keys and the location of each line, not the document, so the
 * JSONL stays the single copy of the data and the index can always be rebuilt from it.
 */
export class EventIndex {
  readonly db: Database;
  private readonly insert: Statement;
  private pending: unknown[][] = [];

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    // The index can be rebuilt from the JSONL files, so it trades durability for speed; the files are the record.
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      'INSERT INTO events (ts, seq, stream, dataset, action, entity_id, parent_entity_id, path, path2, ip, port, ip2, port2, file_id, offset, length) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  add(keys: IndexKeys, at: LineLocation): void {
    this.pending.push([
      keys.ts, keys.seq, keys.stream, keys.dataset, keys.action, keys.entityId, keys.parentEntityId, keys.path, keys.path2,
      keys.ip, keys.port, keys.ip2, keys.port2, at.fileId, at.offset, at.length,
    ]);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** One transaction per batch: per-row commits would cap the store at a few thousand events/s. */
  commit(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const row of rows) this.insert.run(...(row as Parameters<Statement['run']>));
    })();
  }

  /** The end of what is indexed in one file, to find lines a crash left unindexed. */
  indexedEnd(stream: number, fileId: number): number {
    const row = this.db
      .query<{ end: number | null }, [number, number]>('SELECT MAX(offset + length + 1) AS end FROM events WHERE stream = ? AND file_id = ?')
      .get(stream, fileId);
    return row?.end ?? 0;
  }

  removeFile(stream: number, fileId: number): number {
    return this.db.run('DELETE FROM events WHERE stream = ? AND file_id = ?', [stream, fileId]).changes;
  }

  count(): number {
    return this.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM events').get()!.n;
  }

  search(q: IndexQuery): IndexHit[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.from !== undefined) (where.push('ts >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('ts <= ?'), args.push(q.to));
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
      `ORDER BY ts, seq${q.limit ? ' LIMIT ?' : ''}`;
    if (q.limit) args.push(q.limit);
    return this.db.query<IndexHit, (string | number)[]>(sql).all(...args);
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
