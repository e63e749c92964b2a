import { join } from 'node:path';
import { DATASETS, datasetName, type Dataset, type EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { ProvmonError } from '../../errors.ts';
import { releasePidLock, takePidLock } from '../pid-lock.ts';
import { pushIndexRow } from './event-index.ts';
import { IndexFeeder } from './index-feeder.ts';
import { ROW_FIELDS, ROW_FILE, ROW_LENGTH, ROW_OFFSET, type FromIndexWorker } from './index-protocol.ts';
import { quarantineIfUnusable } from './index-writer.ts';
import { JsonlWriter, type WriteFailureCause } from './jsonl-writer.ts';
import { WriteConditionLog } from './write-condition.ts';

/** The seed's file names: syscall events in one file, flows in another; DNS answers in a third. */
export const STREAMS = [
  { id: 0, base: 'forensic-events', datasets: ['process', 'file', 'network', 'audit'] as Dataset[] },
  { id: 1, base: 'pcap-flows', datasets: ['flow'] as Dataset[] },
  { id: 2, base: 'dns', datasets: ['dns'] as Dataset[] },
  { id: 3, base: 'sensor-health', datasets: ['health'] as Dataset[] },
] as const;

export const INDEX_FILE = 'events-index.sqlite';
/** Held by the one process writing the directory (pid inside). */
export const LOCK_FILE = 'events.lock';

export interface StoreLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface LocalStoreOptions {
  dir: string;
  rotateBytes?: number;
  maxFiles?: number;
  /** Index rows go to the index worker in batches of this many events (and on flush()). */
  commitEvery?: number;
  /** Rows queued for the index worker, at most; beyond it the worker indexes from the files later. Default 131072. */
  maxQueuedRows?: number;
  /** Bytes buffered per file before write(2). */
  bufferBytes?: number;
  log?: StoreLog;
}

export interface LocalStoreStats {
  /** Documents accepted per dataset (in the files, or buffered for them; see lost_at_close). */
  written: Record<Dataset, number>;
  /** Accepted documents still buffered when close() could not write them (also in `dropped`). */
  lost_at_close: number;
  bytes: number;
  rotations: number;
  /** Events whose file was deleted because the max_files bound was reached: counted, never silent. */
  evicted: number;
  /** Lines indexed from the JSONL files rather than from the capture (earlier runs' tails, deferred ranges). */
  reindexed: number;
  indexed: number;
  index_queue: number;
  index_deferred: number;
  index_errors: number;
  index_quarantined: number;
  index_behind_files: number;
  /** Documents not written, per cause: they are in no file and no index. */
  dropped: Record<WriteFailureCause, number>;
  /** Bytes waiting for write(2) (they grow while the disk is full). */
  pending_bytes: number;
  /** A torn last line (an earlier crash mid-write) cut from a file at start. */
  torn_tails: number;
}

const streamOfDataset = new Map<string, number>(STREAMS.flatMap((s) => s.datasets.map((d) => [datasetName(d), s.id] as const)));
const datasetOf = new Map<string, Dataset>(STREAMS.flatMap((s) => s.datasets.map((d) => [datasetName(d), d] as const)));

/**
 * The local store: JSONL files (the seed's format, one document per line) plus an embedded index beside them for
 * graph and console queries by time, entity id, path and endpoint. The capture thread only appends lines and hands
 * index rows to the index worker (index-worker.ts), which owns the sqlite connection; see docs/local-store.md.
 */
export class LocalStore {
  private readonly writers: JsonlWriter[];
  private readonly feeder: IndexFeeder;
  private readonly commitEvery: number;
  /** per stream: index rows (flat) of lines appended but not yet sent to the worker */
  private pending: unknown[][] = STREAMS.map(() => []);
  private pendingRows = 0;
  private readonly lockPath: string;
  private readonly conditions: WriteConditionLog[];
  private closed = false;
  private readonly counts = {
    written: Object.fromEntries(DATASETS.map((d) => [d, 0])) as Record<Dataset, number>,
    bytes: 0,
    rotations: 0,
    dropped: { disk_full: 0, write_error: 0 } as Record<WriteFailureCause, number>,
    torn_tails: 0,
    lost_at_close: 0,
  };

  constructor(private readonly options: LocalStoreOptions) {
    this.commitEvery = options.commitEvery ?? 4096;
    this.lockPath = join(options.dir, LOCK_FILE);
    const held = takePidLock(this.lockPath);
    if (held) {
      throw new ProvmonError(`the local store ${options.dir} is in use by process ${held.owner}`, {
        hint: 'two sensors cannot write one events_dir: stop the other one, or give this one its own --events-dir',
        exitCode: 2,
      });
    }
    try {
      const indexPath = join(options.dir, INDEX_FILE);
      const set = quarantineIfUnusable(indexPath);
      if (set) {
        options.log?.warn(
          { index: indexPath, quarantined_as: set.movedTo, problem: set.problem.kind, reason: set.problem.message },
          `the local store's index cannot be used (${set.problem.message}); set aside as ${set.movedTo}, rebuilding it from the JSONL files`,
        );
      }
      // Before the worker runs, files opened or deleted (at start) are told to it afterwards.
      const opened: [number, number, number][] = [];
      const deletedAtStart: [number, number][] = [];
      this.writers = STREAMS.map(
        (stream) =>
          new JsonlWriter({
            dir: options.dir,
            base: stream.base,
            rotateBytes: options.rotateBytes ?? 128 * 1024 * 1024,
            maxFiles: options.maxFiles ?? 20,
            ...(options.bufferBytes ? { bufferBytes: options.bufferBytes } : {}),
            onRotate: () => {
              this.counts.rotations += 1;
            },
            onOpen: (fileId, inode) => (this.feederReady ? this.feeder.fileOpened(stream.id, fileId, inode) : opened.push([stream.id, fileId, inode])),
            onDelete: (fileId) => {
              // Rows of the deleted file still here go first, so the worker counts them as evicted with the file.
              if (!this.feederReady) deletedAtStart.push([stream.id, fileId]);
              else {
                this.sendPending();
                this.feeder.evict(stream.id, fileId);
              }
            },
            onTornTail: (path, bytes) => {
              this.counts.torn_tails += 1;
              options.log?.warn({ file: path, bytes }, `cut a torn last line (${bytes} bytes, an earlier run stopped mid-write) from ${path}`);
            },
          }),
      );
      this.conditions = STREAMS.map((s) => new WriteConditionLog(options.log, `local store ${join(options.dir, `${s.base}.jsonl`)}`));
      this.feeder = new IndexFeeder({
        indexPath,
        dir: options.dir,
        streams: STREAMS.map((s) => ({ id: s.id, base: s.base })),
        files: STREAMS.flatMap((s) => this.writers[s.id]!.rotatedIds.map((fileId) => ({ stream: s.id, fileId }))),
        maxQueuedRows: options.maxQueuedRows ?? 131_072,
        onLog: (m: FromIndexWorker) => options.log?.[m.level](m.fields, m.message),
      });
      this.feederReady = true;
      for (const [stream, fileId, inode] of opened) this.feeder.fileOpened(stream, fileId, inode);
      for (const [stream, fileId] of deletedAtStart) this.feeder.evict(stream, fileId);
    } catch (error) {
      releasePidLock(this.lockPath);
      throw error;
    }
  }

  private feederReady = false;

  write(doc: EcsEvent): void {
    const stream = streamOfDataset.get(doc.event.dataset);
    if (stream === undefined) throw new Error(`no local stream for dataset ${doc.event.dataset}`);
    const writer = this.writers[stream]!;
    const at = writer.append(JSON.stringify(doc));
    if (!at) {
      const failure = writer.failure!;
      this.counts.dropped[failure.cause] += 1;
      this.conditions[stream]!.failing(failure, 1);
      return;
    }
    pushIndexRow(this.pending[stream]!, doc, stream, at);
    this.counts.written[datasetOf.get(doc.event.dataset)!] += 1;
    this.counts.bytes += at.length + 1;
    if (++this.pendingRows >= this.commitEvery) this.flushFiles();
  }

  /**
   * Writes the buffered lines and hands their index rows to the worker, without waiting for it: what the sensor
   * calls every second. Lines that cannot be written yet (a full disk) stay buffered and are retried here.
   */
  flushFiles(): void {
    for (let s = 0; s < this.writers.length; s++) {
      const w = this.writers[s]!;
      if (w.flush()) this.conditions[s]!.recovered();
      else this.conditions[s]!.failing(w.failure!, 0);
    }
    this.sendPending();
  }

  /** Makes everything written so far durable in the files and visible to queries (waits for the index worker). */
  flush(): void {
    this.flushFiles();
    this.feeder.sync();
  }

  get stats(): LocalStoreStats {
    const f = this.feeder.stats();
    return {
      written: { ...this.counts.written },
      lost_at_close: this.counts.lost_at_close,
      bytes: this.counts.bytes,
      rotations: this.counts.rotations,
      evicted: f.evicted,
      reindexed: f.reindexed,
      indexed: f.indexed,
      index_queue: f.index_queue,
      index_deferred: f.index_deferred,
      index_errors: f.index_errors,
      index_quarantined: f.index_quarantined,
      index_behind_files: f.index_behind_files,
      dropped: { ...this.counts.dropped },
      pending_bytes: this.writers.reduce((n, w) => n + w.pendingBytes, 0),
      torn_tails: this.counts.torn_tails,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flushFiles();
      for (let s = 0; s < this.writers.length; s++) {
        const lost = this.writers[s]!.close();
        if (lost > 0) {
          const failure = this.writers[s]!.failure!;
          // Lines accepted a moment ago never reached the file: they move to the drop count.
          this.counts.dropped[failure.cause] += lost;
          this.counts.lost_at_close += lost;
          this.conditions[s]!.failing(failure, lost);
          this.options.log?.error({ cause: failure.cause, code: failure.code, dropped: lost }, `local store: ${lost} buffered documents could not be written before closing (${failure.code})`);
        }
      }
      this.feeder.close();
    } finally {
      releasePidLock(this.lockPath);
    }
  }

  /** Sends the rows whose lines are in their files; rows of lines still buffered (a full disk) wait. */
  private sendPending(): void {
    for (let s = 0; s < this.pending.length; s++) {
      const rows = this.pending[s]!;
      if (rows.length === 0) continue;
      const writer = this.writers[s]!;
      let n = rows.length / ROW_FIELDS;
      if (writer.pendingBytes > 0) {
        const live = writer.currentFileId;
        const durable = writer.durableBytes;
        while (n > 0) {
          const b = (n - 1) * ROW_FIELDS;
          if ((rows[b + ROW_FILE] as number) !== live || (rows[b + ROW_OFFSET] as number) + (rows[b + ROW_LENGTH] as number) + 1 <= durable) break;
          n--;
        }
      }
      if (n === 0) continue;
      const whole = n * ROW_FIELDS === rows.length;
      this.feeder.send(whole ? rows : rows.slice(0, n * ROW_FIELDS), n);
      this.pending[s] = whole ? [] : rows.slice(n * ROW_FIELDS);
      this.pendingRows -= n;
    }
  }
}
