import { indexWorkerUrl } from '../../install-layout.ts';
import {
  C_BEHIND_FILES, C_EVICTED, C_INDEX_ERRORS, C_INDEXED, C_QUARANTINED, C_REINDEXED, C_ROWS_DONE, ROW_FIELDS, ROW_FILE, ROW_LENGTH, ROW_OFFSET, ROW_STREAM,
  SHARED_BYTES, sharedViews, type FromIndexWorker, type StreamFiles, type ToIndexWorker,
} from './index-protocol.ts';

export interface IndexFeederOptions {
  indexPath: string;
  dir: string;
  streams: StreamFiles[];
  /** rotated files on disk at start: the worker indexes what an earlier run left unindexed in them */
  files: { stream: number; fileId: number }[];
  /** rows sent to the worker and not yet handled, at most; beyond it ranges are deferred (see send()) */
  maxQueuedRows: number;
  onLog?: (m: FromIndexWorker) => void;
}

export interface IndexFeederStats {
  indexed: number;
  reindexed: number;
  evicted: number;
  /** rows sent and not yet handled by the worker */
  index_queue: number;
  /** rows the full queue turned into ranges the worker indexes from the files instead */
  index_deferred: number;
  index_errors: number;
  index_quarantined: number;
  /** files with lines waiting to be indexed from the JSONL */
  index_behind_files: number;
}

interface Range {
  stream: number;
  fileId: number;
  start: number;
  end: number;
  lines: number;
}

/**
 * The capture thread's side of the index worker: it posts row batches (one JSON string each: far cheaper to clone
 * than arrays) and never waits, except in sync() and close(). The queue is bounded: a batch that would take it past
 * `maxQueuedRows` is not sent; its lines are remembered as ranges of their files and sent as one small `gap` message
 * each once the queue has drained to half, and the worker indexes them from the JSONL. Nothing becomes unfindable;
 * it is only found later.
 */
export class IndexFeeder {
  private readonly worker: Worker;
  private readonly done: Int32Array;
  private readonly counters: Float64Array;
  private seq = 0;
  private rowsSent = 0;
  private deferred = 0;
  private readonly ranges = new Map<string, Range>();
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly options: IndexFeederOptions) {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    ({ done: this.done, counters: this.counters } = sharedViews(shared));
    this.worker = new Worker(indexWorkerUrl());
    this.worker.onmessage = (e: MessageEvent<FromIndexWorker>) => options.onLog?.(e.data);
    this.worker.onerror = (e) => {
      this.failure = new Error(`the local store's index worker failed: ${e.message}`);
      Atomics.notify(this.done, 0);
    };
    this.post({ type: 'open', seq: ++this.seq, indexPath: options.indexPath, dir: options.dir, streams: options.streams, files: options.files, shared });
    // Start-up waits for the tails of earlier runs, so what is on disk is findable before capture begins.
    this.wait(this.seq);
  }

  fileOpened(stream: number, fileId: number, inode: number): void {
    this.post({ type: 'file', stream, fileId, inode });
  }

  /** Sends `n` rows (flat, index-protocol layout) whose lines are in their files, or defers them when the queue is full. */
  send(flat: unknown[], n: number): void {
    if (n === 0) return;
    const queued = this.rowsSent - this.counters[C_ROWS_DONE]!;
    if (this.ranges.size > 0 && queued <= this.options.maxQueuedRows / 2) this.sendRanges();
    if (this.ranges.size > 0 || queued + n > this.options.maxQueuedRows) {
      this.defer(flat, n);
      return;
    }
    this.rowsSent += n;
    this.post({ type: 'rows', seq: ++this.seq, n, rows: JSON.stringify(flat) });
  }

  /** The file was deleted: deferred lines of it are handed over first, so the worker can count them as evicted. */
  evict(stream: number, fileId: number): void {
    const k = `${stream}:${fileId}`;
    const r = this.ranges.get(k);
    if (r) {
      this.ranges.delete(k);
      this.post({ type: 'gap', seq: ++this.seq, ...r });
    }
    this.post({ type: 'evict', seq: ++this.seq, stream, fileId });
  }

  /** Waits until the worker has indexed everything sent or deferred so far: queries see every line written before. */
  sync(): void {
    this.sendRanges();
    this.post({ type: 'sync', seq: ++this.seq });
    this.wait(this.seq);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sendRanges();
    this.post({ type: 'close', seq: ++this.seq });
    try {
      this.wait(this.seq);
    } finally {
      this.worker.terminate();
    }
  }

  stats(): IndexFeederStats {
    const c = this.counters;
    return {
      indexed: c[C_INDEXED]!,
      reindexed: c[C_REINDEXED]!,
      evicted: c[C_EVICTED]!,
      index_queue: this.rowsSent - c[C_ROWS_DONE]!,
      index_deferred: this.deferred,
      index_errors: c[C_INDEX_ERRORS]!,
      index_quarantined: c[C_QUARANTINED]!,
      index_behind_files: c[C_BEHIND_FILES]!,
    };
  }

  private defer(flat: unknown[], n: number): void {
    this.deferred += n;
    for (let i = 0; i < n; i++) {
      const b = i * ROW_FIELDS;
      const stream = flat[b + ROW_STREAM] as number;
      const fileId = flat[b + ROW_FILE] as number;
      const start = flat[b + ROW_OFFSET] as number;
      const end = start + (flat[b + ROW_LENGTH] as number) + 1;
      const k = `${stream}:${fileId}`;
      const r = this.ranges.get(k);
      if (r) {
        r.end = Math.max(r.end, end);
        r.lines += 1;
      } else this.ranges.set(k, { stream, fileId, start, end, lines: 1 });
    }
  }

  private sendRanges(): void {
    for (const r of this.ranges.values()) this.post({ type: 'gap', seq: ++this.seq, ...r });
    this.ranges.clear();
  }

  private post(m: ToIndexWorker): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(m);
  }

  private wait(seq: number): void {
    for (;;) {
      if (this.failure) throw this.failure;
      const at = Atomics.load(this.done, 0);
      if (at >= seq) return;
      Atomics.wait(this.done, 0, at, 1000);
    }
  }
}
