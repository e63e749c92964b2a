/**
 * What the capture thread (LocalStore) and the index worker (index-worker.ts) say to each other. Messages go one way,
 * in order; progress and counters come back through shared memory, so the capture thread can read them, or wait
 * for them, without an event-loop turn.
 */

/** A stream's file names: `<base>.jsonl` live, `<base>.<id>.jsonl` rotated (JsonlWriter's naming). */
export interface StreamFiles {
  id: number;
  base: string;
}

/**
 * Index keys of one event as the flat values a row message carries: the `events` columns in order (ROW_COLUMNS of
 * them), except that `host` is the host.id text (the worker numbers it); then the TERM_* pairs or null, then a
 * final flow report's `flows` values or null.
 */
export const ROW_COLUMNS = 25;
export const ROW_FIELDS = 27;
export const ROW_STREAM = 2;
export const ROW_HOST = 14;
export const ROW_FILE = 16;
export const ROW_OFFSET = 17;
export const ROW_LENGTH = 18;
export const ROW_TERMS = 25;
export const ROW_FLOW = 26;

export type ToIndexWorker =
  | { type: 'open'; seq: number; indexPath: string; dir: string; streams: StreamFiles[]; files: { stream: number; fileId: number }[]; shared: SharedArrayBuffer }
  /** a live file was opened (its inode tells it from a later live file of the same name) */
  | { type: 'file'; stream: number; fileId: number; inode: number }
  /** `n` rows, JSON text of a flat array of ROW_FIELDS values per row (one string clones far cheaper than arrays) */
  | { type: 'rows'; seq: number; n: number; rows: string }
  /** lines [start, end) of a file were written but not sent as rows (the queue was full): index them from the file */
  | { type: 'gap'; seq: number; stream: number; fileId: number; start: number; end: number; lines: number }
  /** the file was deleted by the max_files bound: drop its rows */
  | { type: 'evict'; seq: number; stream: number; fileId: number }
  /** index what is behind now (not at the next retry), then report done: flush() waits for this */
  | { type: 'sync'; seq: number }
  | { type: 'close'; seq: number };

export type FromIndexWorker = { type: 'log'; level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string };

/** Slots of the shared Float64Array: counters only the worker writes. */
export const C_INDEXED = 0; // rows inserted, whatever their origin
export const C_REINDEXED = 1; // of those, read back from the JSONL files (start-up tails, gaps, repairs)
export const C_EVICTED = 2; // rows dropped with their file, plus never-indexed lines of a file that went first
export const C_ROWS_DONE = 3; // rows of row messages handled (inserted, skipped as already indexed, or deferred)
export const C_INDEX_ERRORS = 4; // failed index transactions (e.g. SQLITE_FULL); their lines are indexed later from the files
export const C_QUARANTINED = 5; // damaged index files set aside while running
export const C_BEHIND_FILES = 6; // files with lines waiting to be indexed from the JSONL
export const COUNTER_SLOTS = 8;

/** Int32 slot 0: the seq of the last message the worker finished (Atomics, so the capture thread can wait on it). */
export const SHARED_BYTES = 8 + COUNTER_SLOTS * 8;

export function sharedViews(shared: SharedArrayBuffer): { done: Int32Array; counters: Float64Array } {
  return { done: new Int32Array(shared, 0, 2), counters: new Float64Array(shared, 8, COUNTER_SLOTS) };
}
