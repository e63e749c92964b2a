import { Database, type SQLQueryBindings, type Statement } from 'bun:sqlite';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { EVENT_COLUMNS, FLOW_COLUMNS, INDEX_VERSION, indexProblem, isDamageError, ROLLUP_KEYS, SCHEMA, type IndexProblem } from './event-index.ts';
import { FlowRollupBatch, prepareFlowRollup } from './flow-rollup.ts';
import { RollupBatch } from './rollup-batch.ts';
import { ROW_COLUMNS, ROW_FIELDS, ROW_FILE, ROW_FLOW, ROW_HOST, ROW_LENGTH, ROW_OFFSET, ROW_STREAM, ROW_TERMS } from './index-protocol.ts';

/** Rows per multi-row INSERT: 64 × ROW_COLUMNS parameters stays far below sqlite's variable limit. */
const MULTI = 64;
const COLUMNS = `(${EVENT_COLUMNS.join(', ')})`;
const ONE_ROW = `(${new Array(ROW_COLUMNS).fill('?').join(',')})`;
const TS = EVENT_COLUMNS.indexOf('ts');
const SEQ = EVENT_COLUMNS.indexOf('seq');
const EVENT_ID = EVENT_COLUMNS.indexOf('event_id');
const FLOW_DOC = FLOW_COLUMNS.indexOf('doc');
const ROLLUP_UPSERT =
  `INSERT INTO rollup (stream, file_id, minute, ${ROLLUP_KEYS.join(', ')}, n) VALUES (${new Array(ROLLUP_KEYS.length + 4).fill('?').join(',')}) ` +
  `ON CONFLICT DO UPDATE SET n = n + excluded.n`;

/** A JSONL file's rows in one transaction: their rowid range and the end of their lines. */
interface FileRun {
  stream: number;
  fileId: number;
  lo: number;
  hi: number;
  end: number;
}

export interface Quarantine {
  /** where the damaged file went */
  movedTo: string;
  problem: IndexProblem;
}

/**
 * Sets a damaged or foreign index file aside (renamed with a timestamp, kept for inspection) so a fresh one can be
 * built from the JSONL files. Returns what it did, or undefined when the file is fine or absent.
 */
export function quarantineIfUnusable(path: string, now = new Date()): Quarantine | undefined {
  if (!existsSync(path)) return undefined;
  let problem: IndexProblem | undefined;
  try {
    const db = new Database(path, { readwrite: true, strict: true });
    try {
      problem = indexProblem(db, path);
    } finally {
      db.close();
    }
  } catch (error) {
    if (!isDamageError(error)) throw error;
    problem = { kind: 'damaged', message: (error as Error).message };
  }
  if (!problem) return undefined;
  return { movedTo: quarantine(path, now), problem };
}

function quarantine(path: string, now: Date): string {
  const movedTo = `${path}.bad-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  // The journal files belong to the damaged file: a fresh index must not replay them.
  for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  return movedTo;
}

/** The index's write side; it lives in the index worker, the only connection that writes. */
export class IndexWriter {
  db: Database;
  private insertMany!: Statement;
  private insertOne!: Statement;
  private insertTerm!: Statement;
  private upsertFile!: Statement;
  private upsertRollup!: Statement;
  private insertFlow!: Statement;
  private flowRollup!: { minutes: Statement; keys: Statement };
  private readonly hostIds = new Map<string, number>();
  /** per `${stream}:${fileId}`: end of the indexed lines (rows before it are already in) */
  private readonly ends = new Map<string, number>();

  constructor(private readonly path: string) {
    this.db = this.openDb();
  }

  /** Replaces a file found damaged while running by a fresh, empty index; returns where the damaged one went. */
  replaceDamaged(now = new Date()): string {
    try {
      this.db.close();
    } catch {
      // a damaged connection may refuse to close cleanly; the file is set aside either way
    }
    const movedTo = quarantine(this.path, now);
    rmSync(`${this.path}-journal`, { force: true });
    this.hostIds.clear();
    this.ends.clear();
    this.db = this.openDb();
    return movedTo;
  }

  indexedEnd(stream: number, fileId: number): number {
    return this.ends.get(`${stream}:${fileId}`) ?? 0;
  }

  /**
   * Inserts `n` rows of flat values (index-protocol's layout) in one transaction; rows already indexed (before their
   * file's indexed end) are skipped, so a range indexed from the file and the same rows arriving later do not
   * duplicate. Returns the rows inserted. Throws with nothing inserted.
   */
  insertRows(flat: unknown[], n: number): number {
    const fresh: number[] = [];
    // Rows come in runs of one file: its indexed end is looked up once per run.
    let stream = -1;
    let fileId = -1;
    let end = 0;
    for (let i = 0; i < n; i++) {
      const b = i * ROW_FIELDS;
      if (flat[b + ROW_STREAM] !== stream || flat[b + ROW_FILE] !== fileId) {
        stream = flat[b + ROW_STREAM] as number;
        fileId = flat[b + ROW_FILE] as number;
        end = this.indexedEnd(stream, fileId);
      }
      if ((flat[b + ROW_OFFSET] as number) >= end) fresh.push(b);
    }
    if (fresh.length === 0) return 0;
    const fileRuns = new Map<string, FileRun>();
    try {
      this.insertBatch(flat, fresh, fileRuns);
    } catch (error) {
      // Hosts numbered inside the rolled-back transaction are gone from the table: forget them too.
      try {
        this.loadHosts(this.db);
      } catch {
        this.hostIds.clear(); // a damaged file: it is replaced, hosts are numbered again
      }
      throw error;
    }
    for (const [key, f] of fileRuns) if (f.end > (this.ends.get(key) ?? 0)) this.ends.set(key, f.end);
    return fresh.length;
  }

  private insertBatch(flat: unknown[], fresh: number[], fileRuns: Map<string, FileRun>): void {
    const params: unknown[] = new Array(ROW_COLUMNS * MULTI);
    const rollup = new RollupBatch();
    const flowRollup = new FlowRollupBatch();
    let run: FileRun | undefined;
    this.db.transaction(() => {
      for (let r = 0; r < fresh.length; ) {
        const many = fresh.length - r >= MULTI;
        const count = many ? MULTI : 1;
        for (let k = 0; k < count; k++) {
          const b = fresh[r + k]!;
          const p = k * ROW_COLUMNS;
          for (let f = 0; f < ROW_COLUMNS; f++) params[p + f] = flat[b + f];
          params[p + ROW_HOST] = this.hostNumber(flat[b + ROW_HOST] as string);
        }
        // The array itself, not spread: 1,600 spread arguments cost more than binding them.
        const last = Number((many ? this.insertMany.run(params as SQLQueryBindings[]) : this.insertOne.run(params.slice(0, ROW_COLUMNS) as SQLQueryBindings[])).lastInsertRowid);
        // One statement's rows get consecutive rowids (a rowid table with a single writer).
        for (let k = 0; k < count; k++) {
          const b = fresh[r + k]!;
          const rid = last - count + 1 + k;
          rollup.add(flat, b, params[k * ROW_COLUMNS + ROW_HOST] as number);
          const terms = flat[b + ROW_TERMS] as [number, string][] | null;
          if (terms) for (const [kind, value] of terms) this.insertTerm.run(kind, value, rid);
          const flow = flat[b + ROW_FLOW] as unknown[] | null;
          if (flow) {
            const [ts, seq, eventId, stream, fileId] = [flat[b + TS] as number, flat[b + SEQ] as number, flat[b + EVENT_ID] as string, flat[b + ROW_STREAM] as number, flat[b + ROW_FILE] as number];
            // A flow already in the table (the same report twice) is not summed twice either.
            if (this.insertFlow.run(...([ts, seq, eventId, stream, fileId, ...flow] as Parameters<Statement['run']>)).changes === 1) {
              flowRollup.add(stream, fileId, ts, seq, eventId, JSON.parse(flow[FLOW_DOC] as string) as EcsEvent);
            }
          }
          const stream = flat[b + ROW_STREAM] as number;
          const fileId = flat[b + ROW_FILE] as number;
          const end = (flat[b + ROW_OFFSET] as number) + (flat[b + ROW_LENGTH] as number) + 1;
          // Rows come in runs of one file: the previous row's run is almost always this one.
          if (!run || run.stream !== stream || run.fileId !== fileId) {
            const key = `${stream}:${fileId}`;
            run = fileRuns.get(key);
            if (!run) fileRuns.set(key, (run = { stream, fileId, lo: rid, hi: rid, end }));
          }
          run.hi = rid;
          if (end > run.end) run.end = end;
        }
        r += count;
      }
      for (const f of fileRuns.values()) this.upsertFile.run(f.stream, f.fileId, f.lo, f.hi, f.end);
      rollup.write(this.upsertRollup);
      flowRollup.write(this.flowRollup);
    })();
  }

  /** Drops the rows of a deleted file; returns how many. */
  removeFile(stream: number, fileId: number): number {
    this.ends.delete(`${stream}:${fileId}`);
    const f = this.db.query<{ lo: number; hi: number }, [number, number]>('SELECT lo, hi FROM files WHERE stream = ? AND file_id = ?').get(stream, fileId);
    if (!f) return 0;
    const args = [f.lo, f.hi, stream, fileId];
    return this.db.transaction(() => {
      this.db.run('DELETE FROM terms WHERE rid IN (SELECT rowid FROM events WHERE rowid BETWEEN ? AND ? AND stream = ? AND file_id = ?)', args);
      const n = this.db.run('DELETE FROM events WHERE rowid BETWEEN ? AND ? AND stream = ? AND file_id = ?', args).changes;
      this.db.run('DELETE FROM files WHERE stream = ? AND file_id = ?', [stream, fileId]);
      this.db.run('DELETE FROM rollup WHERE stream = ? AND file_id = ?', [stream, fileId]);
      for (const table of ['flows', 'flow_minutes', 'flow_keys']) this.db.run(`DELETE FROM ${table} WHERE stream = ? AND file_id = ?`, [stream, fileId]);
      return n;
    })();
  }

  close(): void {
    // Prepared statements left open would keep the connection (and its lock) alive after close(): finalize first.
    for (const stmt of [this.insertMany, this.insertOne, this.insertTerm, this.upsertFile, this.upsertRollup, this.insertFlow, this.flowRollup.minutes, this.flowRollup.keys]) stmt.finalize();
    this.db.close(true);
  }

  private openDb(): Database {
    const db = new Database(this.path, { create: true, strict: true });
    // The index can be rebuilt from the JSONL files (the record), so it trades durability for speed: WAL without
    // fsync at commit; a crash loses at most the latest transactions, which start-up re-indexes from the files.
    // A checkpoint every 10,000 pages (40 MB of log) rather than 1,000: fewer, larger copies into the file (measured
    // ~15 % more rows/s on the storm's rows).
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000;');
    const version = db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0;
    db.exec(SCHEMA);
    if (version !== INDEX_VERSION) db.exec(`PRAGMA user_version = ${INDEX_VERSION}`);
    this.loadHosts(db);
    for (const row of db.query<{ stream: number; file_id: number; end: number }, []>('SELECT stream, file_id, end FROM files').all()) {
      this.ends.set(`${row.stream}:${row.file_id}`, row.end);
    }
    this.insertMany = db.prepare(`INSERT INTO events ${COLUMNS} VALUES ${new Array(MULTI).fill(ONE_ROW).join(',')}`);
    this.insertOne = db.prepare(`INSERT INTO events ${COLUMNS} VALUES ${ONE_ROW}`);
    this.insertTerm = db.prepare('INSERT INTO terms (kind, value, rid) VALUES (?, ?, ?)');
    this.upsertRollup = db.prepare(ROLLUP_UPSERT);
    this.insertFlow = db.prepare(`INSERT OR IGNORE INTO flows (ts, seq, event_id, stream, file_id, ${FLOW_COLUMNS.join(', ')}) VALUES (${new Array(FLOW_COLUMNS.length + 5).fill('?').join(',')})`);
    this.flowRollup = prepareFlowRollup(db);
    // Per JSONL file: the rowid range of its rows and the end of its indexed lines. This replaces an index on
    // (stream, file_id, offset), which every insert paid for and only start-up and eviction used.
    this.upsertFile = db.prepare(
      'INSERT INTO files (stream, file_id, lo, hi, end) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (stream, file_id) DO UPDATE SET lo = min(lo, excluded.lo), hi = max(hi, excluded.hi), end = max(end, excluded.end)',
    );
    return db;
  }

  private loadHosts(db: Database): void {
    this.hostIds.clear();
    for (const row of db.query<{ id: number; host_id: string }, []>('SELECT id, host_id FROM hosts').all()) this.hostIds.set(row.host_id, row.id);
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
