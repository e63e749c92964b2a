/**
 * The Elasticsearch output: an EventSink that ships provmon's ECS documents with _bulk `create` operations into
 * the data streams `logs-provmon.<dataset>-<namespace>`, `_id` = event.id, and loses nothing it was given
 * (docs/elasticsearch.md, "Output semantics").
 *
 *   write() ──> Batcher (batch_size docs | batch_max_bytes | batch_max_latency_ms after the first doc)
 *          ──> in-memory queue (queue_max_bytes) ──> up to `concurrency` _bulk requests
 *                 per item: 201 indexed · 409 duplicate (already delivered) · 429/502/503/504 retried with
 *                 exponential backoff + jitter · auth/missing pipeline: spooled · mapping errors: dead-letter file
 *                 whole request: connection error, timeout, 429, 5xx retried; 413 split; 401/403 spooled
 *          ──> retries exhausted, or queue full ──> OUTAGE mode: the disk spool takes every batch, in order,
 *              and is replayed oldest first (with backoff) until it is empty; then back to LIVE mode.
 *
 * write() never waits for Elasticsearch: it serializes the document and appends it to a batch; a sealed batch
 * either joins the bounded in-memory queue or, in outage mode, is written to the spool (a local file write).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { EventSink } from '../sink.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import { Batcher, realTimers, type Batch, type BulkEntry, type Timers } from './batcher.ts';
import { BulkRequestError, classifyItem, classifyRequestError, describeRequestError, type BulkItemResult } from './classify.ts';
import { DiskSpool, type SpoolSegment, type WhenFull } from './spool.ts';
import type { BulkTransport } from './transport.ts';

export type SinkLog = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

export interface BulkSinkOptions {
  transport: BulkTransport;
  /** Human description of the cluster for log lines (no secrets): describeTarget(). */
  target: string;
  spoolDir: string;
  /** Documents Elasticsearch refused as such (mapping/parsing errors), one JSON line each. */
  rejectedFile: string;
  /** Namespace for a document that carries no data_stream.namespace. */
  namespace: string;
  batchMaxDocs: number;
  batchMaxBytes: number;
  batchMaxLatencyMs: number;
  concurrency: number;
  retry: BackoffPolicy & { maxAttempts: number };
  queueMaxBytes: number;
  spoolMaxBytes: number;
  spoolWhenFull: WhenFull;
  /** fsync spool segments (default true). */
  spoolFsync?: boolean;
  /** Bound on the dead-letter file; beyond it refused documents are only counted. Default 64 MiB. */
  rejectedMaxBytes?: number;
  /** How long close() keeps trying to deliver before it spools what is left. Default 10 s. */
  closeTimeoutMs?: number;
  log?: SinkLog;
  random?: () => number;
  timers?: Timers;
  now?: () => number;
}

type Mode = 'live' | 'outage';

interface Counters {
  written: number;
  indexed: number;
  duplicates: number;
  requests: number;
  retries: number;
  retried_docs: number;
  throttled_docs: number;
  throttled_requests: number;
  request_errors: number;
  blocked_docs: number;
  rejected: number;
  replayed: number;
  outages: number;
  dropped_after_close: number;
  rejected_unrecorded: number;
}

const encoder = new TextEncoder();

/**
 * Sizes are counted in UTF-16 code units: exact for ASCII, which ECS documents almost entirely are, and cheap
 * (an exact UTF-8 count per document costs as much as a third of JSON.stringify). The spool counts exact bytes.
 */
function entryOf(action: string, source: string): BulkEntry {
  const text = `${action}\n${source}\n`;
  return { text, bytes: text.length };
}

/** The entries of a _bulk body (two lines per document). */
export function parseEntries(body: string): BulkEntry[] {
  const lines = body.split('\n');
  const out: BulkEntry[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === '') break;
    out.push(entryOf(lines[i]!, lines[i + 1]!));
  }
  return out;
}

const bodyOf = (entries: BulkEntry[]): string => entries.map((e) => e.text).join('');

export class ElasticsearchBulkSink implements EventSink {
  readonly name = 'elasticsearch';
  private readonly batcher: Batcher;
  readonly spool: DiskSpool;
  private readonly queue: Batch[] = [];
  private queuedBytes = 0;
  private queuedDocs = 0;
  private liveInFlight = 0;
  private liveInFlightDocs = 0;
  private spoolInFlight = 0;
  private mode: Mode = 'live';
  private spoolAttempt = 0;
  private spoolRetryAt = 0;
  private spoolTimer: unknown = null;
  private closing = false;
  private closed = false;
  private crashed = false;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private readonly sleepers = new Set<() => void>();
  private readonly c: Counters = {
    written: 0,
    indexed: 0,
    duplicates: 0,
    requests: 0,
    retries: 0,
    retried_docs: 0,
    throttled_docs: 0,
    throttled_requests: 0,
    request_errors: 0,
    blocked_docs: 0,
    rejected: 0,
    replayed: 0,
    outages: 0,
    dropped_after_close: 0,
    rejected_unrecorded: 0,
  };
  private readonly samples: { t: number; indexed: number }[] = [];
  private readonly sampler: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private rejectedBytes: number;
  /** The last problem seen talking to Elasticsearch (for status lines and tests); never holds secrets. */
  lastError: string | undefined;

  constructor(private readonly o: BulkSinkOptions) {
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.random = o.random ?? Math.random;
    this.spool = new DiskSpool({
      dir: o.spoolDir,
      maxBytes: o.spoolMaxBytes,
      whenFull: o.spoolWhenFull,
      fsync: o.spoolFsync ?? true,
      onDrop: (docs, why) => o.log?.error({ dropped_docs: docs, spool_dir: o.spoolDir }, `Elasticsearch output dropped ${docs} documents: ${why}`),
    });
    try {
      this.rejectedBytes = statSync(o.rejectedFile).size;
    } catch {
      this.rejectedBytes = 0;
    }
    this.batcher = new Batcher({
      maxDocs: o.batchMaxDocs,
      maxBytes: o.batchMaxBytes,
      maxLatencyMs: o.batchMaxLatencyMs,
      onBatch: (b) => this.onBatch(b),
      now: this.now,
      timers: this.timers,
    });
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref?.();
    if (!this.spool.isEmpty) {
      // Batches spooled by an earlier run are older than anything new: new batches queue behind them on disk.
      this.mode = 'outage';
      o.log?.info({ spool_docs: this.spool.docs, spool_bytes: this.spool.bytes }, `replaying ${this.spool.docs} spooled documents to ${o.target}`);
      this.pump();
    }
  }

  write(doc: EcsEvent): void {
    if (this.closing) {
      this.c.dropped_after_close += 1;
      return;
    }
    this.c.written += 1;
    const ds = doc.data_stream;
    const dataset = ds?.dataset ?? doc.event?.dataset;
    const index = `${ds?.type ?? 'logs'}-${dataset}-${ds?.namespace ?? this.o.namespace}`;
    const source = JSON.stringify(doc);
    // event.id is the deterministic _id; a document without one gets a hash of its content (still idempotent)
    const id = doc.event?.id || createHash('sha256').update(source).digest('base64url').slice(0, 27);
    this.batcher.add(entryOf(`{"create":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}`, source));
  }

  /** Resolves when everything written so far was delivered, dead-lettered or spooled. */
  async flush(): Promise<void> {
    this.batcher.seal();
    await this.until(() => this.queue.length === 0 && this.liveInFlight === 0);
  }

  /** flush(), then waits until the spool is empty too; false when timeoutMs passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.batcher.seal();
    const done = () => this.queue.length === 0 && this.liveInFlight === 0 && this.spoolInFlight === 0 && this.spool.isEmpty;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([this.until(done).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops: keeps delivering for up to closeTimeoutMs, then aborts what is in flight and spools everything not
   * delivered. Spooled documents are replayed by the next sink opened on the same spool directory.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private closePromise: Promise<void> | undefined;
  private hurried = false;
  private endCloseWait: () => void = () => {};

  /** Cuts close()'s wait for delivery short (a second signal): what is not delivered yet is spooled at once. */
  hurry(): void {
    this.hurried = true;
    this.endCloseWait();
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    this.batcher.seal();
    this.wakeSleepers();
    const deadline = this.hurried ? 0 : (this.o.closeTimeoutMs ?? 10_000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise<void>((r) => {
      this.endCloseWait = r;
      timer = setTimeout(r, deadline);
    });
    await Promise.race([this.until(() => this.queue.length === 0 && this.liveInFlight === 0), cut]);
    clearTimeout(timer);
    this.abort.abort();
    for (const b of this.queue.splice(0)) this.spoolEntries(b.entries);
    this.queuedBytes = 0;
    this.queuedDocs = 0;
    await this.until(() => this.liveInFlight === 0 && this.spoolInFlight === 0);
    this.shutdown();
    await this.o.transport.close();
  }

  /** Stops at once without delivering or spooling anything held in memory: what a crash does (tests). */
  async crash(): Promise<void> {
    this.crashed = true;
    this.closing = true;
    this.abort.abort();
    this.wakeSleepers();
    await this.until(() => this.liveInFlight === 0 && this.spoolInFlight === 0);
    this.shutdown();
    await this.o.transport.close();
  }

  stats(): Record<string, number> {
    this.sample();
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const rate = last.t > first.t ? ((last.indexed - first.indexed) * 1000) / (last.t - first.t) : 0;
    return {
      written: this.c.written,
      indexed: this.c.indexed,
      duplicates: this.c.duplicates,
      indexed_per_s: Math.round(rate * 10) / 10,
      requests: this.c.requests,
      retries: this.c.retries,
      retried_docs: this.c.retried_docs,
      throttled_docs: this.c.throttled_docs,
      throttled_requests: this.c.throttled_requests,
      request_errors: this.c.request_errors,
      blocked_docs: this.c.blocked_docs,
      rejected: this.c.rejected,
      spooled: this.spool.counters.spooled_docs,
      replayed: this.c.replayed,
      spool_docs: this.spool.docs,
      spool_bytes: this.spool.bytes,
      spool_files: this.spool.files,
      dropped: this.spool.counters.dropped_docs + this.c.dropped_after_close + this.c.rejected_unrecorded,
      queue_docs: this.batcher.pendingDocs + this.queuedDocs + this.liveInFlightDocs,
      in_flight: this.liveInFlight + this.spoolInFlight,
      outage: this.mode === 'outage' ? 1 : 0,
      outages: this.c.outages,
    };
  }

  // ---------------------------------------------------------------------------------------------------------

  private onBatch(batch: Batch): void {
    if (this.crashed) return;
    if (this.mode === 'outage' || this.closed) {
      this.spoolEntries(batch.entries);
    } else if (this.queuedBytes + batch.bytes > this.o.queueMaxBytes && this.queue.length > 0) {
      this.enterOutage(`the in-memory queue is full (queue_max_bytes ${this.o.queueMaxBytes}): Elasticsearch is slower than the capture`);
      this.spoolEntries(batch.entries);
    } else {
      this.queue.push(batch);
      this.queuedBytes += batch.bytes;
      this.queuedDocs += batch.entries.length;
    }
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.now();
    while (this.liveInFlight + this.spoolInFlight < this.o.concurrency) {
      if (!this.closing && this.spool.available > 0 && now >= this.spoolRetryAt) {
        const seg = this.spool.next()!;
        this.spoolInFlight += 1;
        void this.replay(seg).finally(() => {
          this.spoolInFlight -= 1;
          this.pump();
        });
        continue;
      }
      if (this.abort.signal.aborted) break;
      const batch = this.queue.shift();
      if (!batch) break;
      this.queuedBytes -= batch.bytes;
      this.queuedDocs -= batch.entries.length;
      this.liveInFlight += 1;
      this.liveInFlightDocs += batch.entries.length;
      void this.deliverLive(batch.entries).finally(() => {
        this.liveInFlight -= 1;
        this.liveInFlightDocs -= batch.entries.length;
        this.pump();
      });
    }
    if (!this.closing && this.spool.available > 0 && now < this.spoolRetryAt && this.spoolTimer === null) {
      this.spoolTimer = this.timers.set(() => {
        this.spoolTimer = null;
        this.pump();
      }, this.spoolRetryAt - now);
    }
    this.notify();
  }

  private async send(entries: BulkEntry[]): Promise<BulkItemResult[]> {
    this.c.requests += 1;
    try {
      return await this.o.transport.bulk(bodyOf(entries), entries.length, this.abort.signal);
    } catch (error) {
      this.c.request_errors += 1;
      const e = error instanceof BulkRequestError ? error : new BulkRequestError(String(error), 'other');
      if (e.status === 429) this.c.throttled_requests += 1;
      throw e;
    }
  }

  /**
   * Counts the results of one request. Returns what must be tried again (429, 5xx) and what must wait for the
   * cluster to be fixed (auth, missing pipeline), in request order.
   */
  private apply(entries: BulkEntry[], items: BulkItemResult[]): { retry: BulkEntry[]; blocked: BulkEntry[] } {
    const retry: BulkEntry[] = [];
    const blocked: BulkEntry[] = [];
    const rejected: [BulkEntry, BulkItemResult][] = [];
    for (let i = 0; i < entries.length; i++) {
      const item = items[i]!;
      switch (classifyItem(item)) {
        case 'indexed':
          this.c.indexed += 1;
          break;
        case 'duplicate':
          this.c.duplicates += 1;
          break;
        case 'retry':
          if (item.status === 429) this.c.throttled_docs += 1;
          retry.push(entries[i]!);
          break;
        case 'blocked':
          this.c.blocked_docs += 1;
          blocked.push(entries[i]!);
          this.noteBlocked(item);
          break;
        case 'rejected':
          rejected.push([entries[i]!, item]);
          break;
      }
    }
    if (rejected.length > 0) this.deadLetter(rejected);
    return { retry, blocked };
  }

  private async deliverLive(entries: BulkEntry[]): Promise<void> {
    let pending = entries;
    let attempt = 0;
    for (;;) {
      let items: BulkItemResult[];
      try {
        items = await this.send(pending);
      } catch (error) {
        const e = error as BulkRequestError;
        if (this.crashed) return;
        const outcome = classifyRequestError(e);
        if (outcome === 'split' && pending.length > 1) {
          const mid = pending.length >> 1;
          await this.deliverLive(pending.slice(0, mid));
          await this.deliverLive(pending.slice(mid));
          return;
        }
        this.lastError = describeRequestError(e, this.o.target);
        if (outcome === 'retry' && attempt < this.o.retry.maxAttempts && !this.closing) {
          this.c.retries += 1;
          this.c.retried_docs += pending.length;
          await this.sleep(backoffDelay(attempt++, this.o.retry, this.random));
          continue;
        }
        // the failed batch is older than anything still queued: it goes to the spool first
        this.spoolEntries(pending);
        if (!(this.closing && e.kind === 'aborted')) this.enterOutage(this.lastError);
        return;
      }
      const { retry, blocked } = this.apply(pending, items);
      if (blocked.length > 0) this.spoolEntries(blocked);
      if (retry.length === 0) return;
      if (attempt < this.o.retry.maxAttempts && !this.closing) {
        this.c.retries += 1;
        this.c.retried_docs += retry.length;
        await this.sleep(backoffDelay(attempt++, this.o.retry, this.random));
        pending = retry;
        continue;
      }
      this.spoolEntries(retry);
      if (!this.closing) {
        this.lastError = `Elasticsearch at ${this.o.target} kept rejecting documents with HTTP 429 after ${this.o.retry.maxAttempts} retries`;
        this.enterOutage(this.lastError);
      }
      return;
    }
  }

  /** One attempt at the oldest spooled batches; what is not delivered stays in the segment. */
  private async replay(seg: SpoolSegment): Promise<void> {
    const text = this.spool.read(seg);
    const entries = parseEntries(text);
    let remaining: BulkEntry[];
    try {
      remaining = await this.attemptOnce(entries);
    } catch (error) {
      if (this.crashed) return;
      const e = error as BulkRequestError;
      this.spool.release(seg);
      if (e.kind !== 'aborted') {
        this.lastError = describeRequestError(e, this.o.target);
        this.enterOutage(this.lastError);
        this.spoolBackoff();
      }
      return;
    }
    if (this.crashed) return;
    const delivered = entries.length - remaining.length;
    this.c.replayed += delivered;
    this.c.retries += 1;
    this.c.retried_docs += entries.length;
    if (remaining.length === 0) {
      this.spool.complete(seg);
      this.spoolAttempt = 0;
      this.spoolRetryAt = 0;
      if (this.spool.isEmpty && this.mode === 'outage') this.exitOutage();
    } else {
      this.spool.rewrite(seg, bodyOf(remaining), remaining.length);
      this.spoolBackoff();
    }
  }

  /** Sends entries once (halving on 413); resolves with the entries still undelivered; throws on request failure. */
  private async attemptOnce(entries: BulkEntry[]): Promise<BulkEntry[]> {
    let items: BulkItemResult[];
    try {
      items = await this.send(entries);
    } catch (error) {
      const e = error as BulkRequestError;
      if (classifyRequestError(e) === 'split' && entries.length > 1) {
        const mid = entries.length >> 1;
        return [...(await this.attemptOnce(entries.slice(0, mid))), ...(await this.attemptOnce(entries.slice(mid)))];
      }
      throw e;
    }
    const { retry, blocked } = this.apply(entries, items);
    if (retry.length === 0) return blocked;
    if (blocked.length === 0) return retry;
    const keep = new Set([...retry, ...blocked]);
    return entries.filter((e) => keep.has(e));
  }

  private spoolBackoff(): void {
    // several segments in flight fail together: that is one failed round, not several
    if (this.spoolRetryAt > this.now()) return;
    const delay = backoffDelay(this.spoolAttempt++, this.o.retry, this.random);
    this.spoolRetryAt = this.now() + delay;
  }

  private spoolEntries(entries: BulkEntry[]): void {
    if (this.crashed || entries.length === 0) return;
    try {
      this.spool.append(bodyOf(entries), entries.length);
    } catch (error) {
      // the disk refused (full, read-only): the documents are lost, and counted as such
      this.c.rejected_unrecorded += entries.length;
      this.o.log?.error({ err: error, dropped_docs: entries.length }, `could not write ${entries.length} documents to the spool ${this.spool.dir}`);
    }
  }

  private enterOutage(reason: string): void {
    if (this.mode === 'outage') return;
    this.mode = 'outage';
    this.c.outages += 1;
    this.o.log?.warn({ spool_dir: this.spool.dir }, `${reason}; spooling documents to disk and replaying them when Elasticsearch takes them again`);
    // batches waiting in memory are older than anything sealed from now on: they go to the spool first
    for (const b of this.queue.splice(0)) this.spoolEntries(b.entries);
    this.queuedBytes = 0;
    this.queuedDocs = 0;
  }

  private exitOutage(): void {
    this.mode = 'live';
    this.lastError = undefined;
    this.o.log?.info({ replayed: this.c.replayed }, `Elasticsearch at ${this.o.target} takes documents again; the spool is empty`);
  }

  private blockedLogged = new Set<string>();
  private noteBlocked(item: BulkItemResult): void {
    const key = `${item.status}:${item.error?.type ?? ''}`;
    this.lastError = `Elasticsearch refused documents with HTTP ${item.status} (${item.error?.type ?? 'error'}: ${item.error?.reason ?? ''}); they are spooled until this is fixed`;
    if (this.blockedLogged.has(key)) return;
    this.blockedLogged.add(key);
    this.o.log?.warn({ status: item.status, type: item.error?.type, reason: item.error?.reason }, this.lastError);
  }

  private rejectedLogged = new Set<string>();
  private deadLetter(rejected: [BulkEntry, BulkItemResult][]): void {
    this.c.rejected += rejected.length;
    const cap = this.o.rejectedMaxBytes ?? 64 * 1024 * 1024;
    let text = '';
    const at = new Date(this.now()).toISOString();
    for (const [entry, item] of rejected) {
      const nl = entry.text.indexOf('\n');
      const action = entry.text.slice(0, nl);
      const source = entry.text.slice(nl + 1, -1);
      text += `{"at":"${at}","status":${item.status},"error":${JSON.stringify(item.error ?? null)},"action":${action},"doc":${source}}\n`;
      const key = item.error?.type ?? String(item.status);
      if (!this.rejectedLogged.has(key)) {
        this.rejectedLogged.add(key);
        this.o.log?.error(
          { status: item.status, type: item.error?.type, reason: item.error?.reason, file: this.o.rejectedFile },
          `Elasticsearch refused a document (${item.error?.type ?? item.status}); refused documents are kept in ${this.o.rejectedFile}`,
        );
      }
    }
    const bytes = encoder.encode(text).length;
    if (this.rejectedBytes + bytes > cap) {
      this.c.rejected_unrecorded += rejected.length;
      return;
    }
    try {
      const fd = openSync(this.o.rejectedFile, 'a', 0o600);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      this.rejectedBytes += bytes;
    } catch (error) {
      this.c.rejected_unrecorded += rejected.length;
      this.o.log?.error({ err: error }, `could not write refused documents to ${this.o.rejectedFile}`);
    }
  }

  private sample(): void {
    const t = this.now();
    const last = this.samples[this.samples.length - 1];
    if (last && t - last.t < 1000) return;
    this.samples.push({ t, indexed: this.c.indexed });
    if (this.samples.length > 11) this.samples.shift();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.timers.clear(handle);
        this.sleepers.delete(wake);
        resolve();
      };
      const handle = this.timers.set(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private wakeSleepers(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private until(cond: () => boolean): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!cond()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private shutdown(): void {
    this.closed = true;
    clearInterval(this.sampler);
    if (this.spoolTimer !== null) this.timers.clear(this.spoolTimer);
    this.spoolTimer = null;
    this.batcher.seal();
    this.spool.close();
    this.notify();
  }
}
