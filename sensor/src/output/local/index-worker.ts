/**
 * The index worker: the one sqlite connection that writes the local store's index, off the capture thread. It
 * takes row batches in order, one transaction each, and indexes from the JSONL files whatever it was not sent as
 * rows (start-up tails, ranges the full queue deferred, batches a failed transaction lost). Progress and counters
 * go back through shared memory (index-protocol.ts).
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { isDamageError, pushIndexRow } from './event-index.ts';
import {
  C_BEHIND_FILES, C_EVICTED, C_INDEX_ERRORS, C_INDEXED, C_QUARANTINED, C_REINDEXED, C_ROWS_DONE, ROW_FIELDS, ROW_FILE, ROW_LENGTH, ROW_OFFSET, ROW_STREAM,
  sharedViews, type FromIndexWorker, type StreamFiles, type ToIndexWorker,
} from './index-protocol.ts';
import { IndexWriter } from './index-writer.ts';

declare const self: Worker;

/** Lines of one file that are in the file but not (yet) in the index; `end` Infinity means "to the file's end". */
interface Behind {
  stream: number;
  fileId: number;
  start: number;
  end: number;
  /** lines known to be in the range (0 when unknown): counted as evicted if the file goes before they are indexed */
  lines: number;
}

const RETRY_MS = 1000;
const CHUNK = 8 << 20;
const decoder = new TextDecoder();

let writer: IndexWriter | undefined;
let indexPath = '';
let closing = false;
let dir = '';
let streams: StreamFiles[] = [];
let done: Int32Array;
let counters: Float64Array;
const inodes = new Map<string, number>();
/** every file on disk the index covers (rotated ones from start-up, live ones as they open): what a rebuild reads */
const known = new Set<string>();
const behind = new Map<string, Behind>();
let retryAt = 0;
let lastErrorLog = 0;

const add = (slot: number, n: number) => {
  counters[slot] = counters[slot]! + n;
};
const key = (stream: number, fileId: number) => `${stream}:${fileId}`;

function log(level: FromIndexWorker['level'], fields: Record<string, unknown>, message: string): void {
  self.postMessage({ type: 'log', level, fields, message } satisfies FromIndexWorker);
}

function markBehind(stream: number, fileId: number, start: number, end: number, lines: number): void {
  const k = key(stream, fileId);
  const b = behind.get(k);
  if (b) {
    b.start = Math.min(b.start, start);
    b.end = Math.max(b.end, end);
    b.lines += lines;
  } else behind.set(k, { stream, fileId, start, end, lines });
  counters[C_BEHIND_FILES] = behind.size;
}

/**
 * The writer, opened now if an earlier attempt failed (e.g. a full disk at start): until it opens, every line
 * stays behind, to be indexed from the files.
 */
function openWriter(): IndexWriter | undefined {
  if (writer || closing) return writer;
  try {
    writer = new IndexWriter(indexPath);
  } catch (error) {
    failed(error, 'the index cannot be opened');
  }
  return writer;
}

/** The file's content as of now: the rotated name, or the live name when its inode is still this file's. */
function openFile(stream: number, fileId: number): number | undefined {
  const base = streams.find((s) => s.id === stream)!.base;
  const rotated = join(dir, `${base}.${fileId}.jsonl`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return openSync(rotated, 'r');
    } catch {
      // not rotated (yet): the live file, if it is still this one
    }
    const inode = inodes.get(key(stream, fileId));
    if (inode === undefined) return undefined;
    try {
      const fd = openSync(join(dir, `${base}.jsonl`), 'r');
      if (fstatSync(fd).ino === inode) return fd;
      closeSync(fd); // rotated between the two opens: try the rotated name again
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Indexes the complete lines of [b.start, b.end) from the file; the range shrinks as it goes. */
function catchUp(b: Behind): void {
  const fd = openFile(b.stream, b.fileId);
  if (fd === undefined) {
    // The file is gone (evicted by max_files) before its lines were indexed: they went with it, counted.
    add(C_EVICTED, b.lines);
    behind.delete(key(b.stream, b.fileId));
    return;
  }
  try {
    const end = Math.min(b.end, fstatSync(fd).size);
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(end - b.start, 1)));
    while (b.start < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - b.start), b.start);
      if (n <= 0) break;
      const rows: unknown[] = [];
      let lineStart = 0;
      for (let i = 0; i < n; i++) {
        if (buf[i] !== 0x0a) continue;
        try {
          const doc = JSON.parse(decoder.decode(buf.subarray(lineStart, i))) as EcsEvent;
          pushIndexRow(rows, doc, b.stream, { fileId: b.fileId, offset: b.start + lineStart, length: i - lineStart });
        } catch {
          // a line that is not JSON (a fragment a crash left in an old file) stays in the file, unindexed
        }
        lineStart = i + 1;
      }
      if (lineStart === 0) {
        if (n < buf.length || end - b.start <= buf.length) break; // an incomplete last line: wait for the rest
        throw new Error(`a line longer than ${buf.length} bytes at ${b.start}`);
      }
      const inserted = writer!.insertRows(rows, rows.length / ROW_FIELDS);
      add(C_INDEXED, inserted);
      add(C_REINDEXED, inserted);
      b.lines = Math.max(0, b.lines - rows.length / ROW_FIELDS);
      b.start += lineStart;
    }
    if (b.start >= b.end || (b.end === Infinity && b.start >= end)) behind.delete(key(b.stream, b.fileId));
  } finally {
    closeSync(fd);
  }
}

function catchUpAll(force: boolean): void {
  if (behind.size === 0 || (!force && Date.now() < retryAt) || !openWriter()) return;
  for (const b of [...behind.values()]) {
    try {
      catchUp(b);
    } catch (error) {
      failed(error, 'indexing lines from the JSONL files failed');
      break;
    }
  }
  counters[C_BEHIND_FILES] = behind.size;
}

/** A failed transaction: a damaged file is set aside and rebuilt; anything else is retried from the files later. */
function failed(error: unknown, what: string): void {
  add(C_INDEX_ERRORS, 1);
  retryAt = Date.now() + RETRY_MS;
  if (isDamageError(error) && writer) {
    const movedTo = writer.replaceDamaged();
    add(C_QUARANTINED, 1);
    for (const k of known) {
      const [stream, fileId] = k.split(':').map(Number) as [number, number];
      markBehind(stream, fileId, 0, Infinity, 0);
    }
    log('error', { index: movedTo, cause: 'damaged', error: (error as Error).message }, `the local store's index was damaged; set aside as ${movedTo}, rebuilding it from the JSONL files`);
    return;
  }
  const now = Date.now();
  if (now - lastErrorLog >= 60_000) {
    lastErrorLog = now;
    log('warn', { cause: (error as { code?: string }).code ?? 'error', error: (error as Error).message, index_errors: counters[C_INDEX_ERRORS] }, `local store index: ${what}; the lines stay in the JSONL files and are indexed when it works again`);
  }
}

function onRows(flat: unknown[], n: number): void {
  // Rows of a file that already has lines waiting behind them join that range: the index keeps a prefix of each file.
  let direct = flat;
  if (behind.size > 0) {
    direct = [];
    for (let i = 0; i < n; i++) {
      const b = i * ROW_FIELDS;
      const late = behind.get(key(flat[b + ROW_STREAM] as number, flat[b + ROW_FILE] as number));
      if (late) {
        const offset = flat[b + ROW_OFFSET] as number;
        markBehind(late.stream, late.fileId, offset, offset + (flat[b + ROW_LENGTH] as number) + 1, 1);
      } else for (let f = 0; f < ROW_FIELDS; f++) direct.push(flat[b + f]);
    }
  }
  const count = direct.length / ROW_FIELDS;
  try {
    if (!openWriter()) throw new Error('the index is not open');
    add(C_INDEXED, writer!.insertRows(direct, count));
  } catch (error) {
    for (let i = 0; i < count; i++) {
      const b = i * ROW_FIELDS;
      const offset = direct[b + ROW_OFFSET] as number;
      markBehind(direct[b + ROW_STREAM] as number, direct[b + ROW_FILE] as number, offset, offset + (direct[b + ROW_LENGTH] as number) + 1, 1);
    }
    failed(error, 'an index transaction failed');
  }
  add(C_ROWS_DONE, n);
}

function handle(m: ToIndexWorker): void {
  switch (m.type) {
    case 'open': {
      ({ done, counters } = sharedViews(m.shared));
      dir = m.dir;
      streams = m.streams;
      indexPath = m.indexPath;
      const opened = openWriter();
      // Lines an earlier run wrote but never indexed (a crash, a full queue, a damaged index) are indexed now.
      for (const f of m.files) {
        const base = streams.find((s) => s.id === f.stream)!.base;
        const path = join(dir, `${base}.${f.fileId}.jsonl`);
        if (!existsSync(path)) continue;
        known.add(key(f.stream, f.fileId));
        const end = opened?.indexedEnd(f.stream, f.fileId) ?? 0;
        if (end < statSync(path).size) markBehind(f.stream, f.fileId, end, Infinity, 0);
      }
      catchUpAll(true);
      break;
    }
    case 'file':
      inodes.set(key(m.stream, m.fileId), m.inode);
      known.add(key(m.stream, m.fileId));
      break;
    case 'rows':
      onRows(JSON.parse(m.rows) as unknown[], m.n);
      break;
    case 'gap':
      markBehind(m.stream, m.fileId, m.start, m.end, m.lines);
      catchUpAll(true);
      break;
    case 'evict': {
      const late = behind.get(key(m.stream, m.fileId));
      if (late) {
        add(C_EVICTED, late.lines);
        behind.delete(key(m.stream, m.fileId));
      }
      inodes.delete(key(m.stream, m.fileId));
      known.delete(key(m.stream, m.fileId));
      try {
        if (!openWriter()) throw new Error('the index is not open');
        add(C_EVICTED, writer!.removeFile(m.stream, m.fileId));
      } catch (error) {
        failed(error, 'dropping the rows of a deleted file failed');
      }
      break;
    }
    case 'sync':
      catchUpAll(true);
      break;
    case 'close':
      catchUpAll(true);
      closing = true;
      writer?.close();
      writer = undefined;
      break;
  }
  if (m.type === 'file' || m.type === 'rows' || m.type === 'evict') catchUpAll(false);
  if ('seq' in m) {
    Atomics.store(done, 0, m.seq);
    Atomics.notify(done, 0);
  }
}

self.onmessage = (event: MessageEvent<ToIndexWorker>) => {
  try {
    handle(event.data);
  } catch (error) {
    // Nothing may stop the worker silently: the capture thread sees the seq move and the error in the log.
    add(C_INDEX_ERRORS, 1);
    log('error', { error: (error as Error).message }, `local store index worker: ${(error as Error).message}`);
    if ('seq' in event.data) {
      Atomics.store(done, 0, event.data.seq);
      Atomics.notify(done, 0);
    }
  }
};
