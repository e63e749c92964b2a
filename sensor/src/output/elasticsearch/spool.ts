/**
 * The durable on-disk spool for batches Elasticsearch did not take: `<output_dir>/es-spool/`, mode 0700.
 *
 * Each spooled batch is one segment file `<seq>-<docs>.ndjson` whose content is exactly a _bulk request body
 * (`{"create":{...}}` line, document line, ...), so a segment can also be replayed by hand with
 * `curl -H 'Content-Type: application/x-ndjson' --data-binary @<file> $ES/_bulk`. Segments are written to a
 * temporary file, fsynced and renamed into place: a crash never leaves a torn segment. Replay takes segments
 * oldest first (FIFO); a partly delivered segment is rewritten with only the documents still undelivered.
 *
 * Bounded by `maxBytes`. When an append would exceed it, `whenFull` decides:
 * - drop_oldest (default): the oldest segments not being replayed right now are deleted until the new one fits;
 * - drop_newest: the new batch is not written.
 * Either way every dropped document is counted (stats, log) and recorded in `drops.jsonl` in the spool directory.
 *
 * A lock file holding the owner's pid keeps two sensors from sharing a spool.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ProvmonError } from '../../errors.ts';
import { releasePidLock, takePidLock } from '../pid-lock.ts';

export type WhenFull = 'drop_oldest' | 'drop_newest';

export interface SpoolSegment {
  seq: number;
  docs: number;
  bytes: number;
  file: string;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  whenFull: WhenFull;
  /** fsync each segment before it counts as spooled (default true). */
  fsync?: boolean;
  /** Called for every drop with the number of documents lost and why. */
  onDrop?: (docs: number, why: string) => void;
}

const SEGMENT = /^(\d{16})-(\d+)\.ndjson$/;
const LOCK = 'lock';
export const DROPS_FILE = 'drops.jsonl';

export class DiskSpool {
  private segments: SpoolSegment[] = [];
  private readonly inUse = new Set<number>();
  private nextSeq = 1;
  private bytesTotal = 0;
  private docsTotal = 0;
  private locked = false;
  readonly counters = { spooled_docs: 0, spooled_batches: 0, dropped_docs: 0, drop_events: 0 };

  constructor(private readonly options: SpoolOptions) {
    try {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      chmodSync(options.dir, 0o700);
    } catch (error) {
      throw new ProvmonError(`cannot create the Elasticsearch spool directory ${options.dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'output_dir must be writable by the sensor',
        exitCode: 2,
      });
    }
    this.lock();
    this.recover();
  }

  get dir(): string {
    return this.options.dir;
  }

  get bytes(): number {
    return this.bytesTotal;
  }

  get docs(): number {
    return this.docsTotal;
  }

  get files(): number {
    return this.segments.length;
  }

  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  /** Segments not currently handed out by next(). */
  get available(): number {
    return this.segments.length - this.inUse.size;
  }

  /**
   * Spools one batch (a _bulk body of `docs` documents). Returns the number of documents dropped to respect the
   * bound (the new batch's under drop_newest, older ones under drop_oldest).
   */
  append(text: string, docs: number): number {
    const bytes = Buffer.byteLength(text);
    let dropped = 0;
    if (bytes > this.options.maxBytes) {
      this.recordDrop(docs, bytes, `a batch of ${bytes} bytes is larger than the whole spool (spool_max_bytes ${this.options.maxBytes})`);
      return docs;
    }
    while (this.bytesTotal + bytes > this.options.maxBytes) {
      const victim = this.options.whenFull === 'drop_oldest' ? this.segments.find((s) => !this.inUse.has(s.seq)) : undefined;
      if (!victim) {
        this.recordDrop(docs, bytes, `spool full (spool_max_bytes ${this.options.maxBytes}, spool_when_full ${this.options.whenFull}): new batch dropped`);
        return dropped + docs;
      }
      this.unlinkSegment(victim);
      dropped += victim.docs;
      this.recordDrop(victim.docs, victim.bytes, `spool full (spool_max_bytes ${this.options.maxBytes}): oldest batch #${victim.seq} dropped`);
    }
    const seq = this.nextSeq++;
    const file = this.writeSegment(seq, docs, text);
    this.segments.push({ seq, docs, bytes, file });
    this.bytesTotal += bytes;
    this.docsTotal += docs;
    this.counters.spooled_docs += docs;
    this.counters.spooled_batches += 1;
    return dropped;
  }

  /** The oldest segment nobody is replaying, marked in use; undefined when there is none. */
  next(): SpoolSegment | undefined {
    const seg = this.segments.find((s) => !this.inUse.has(s.seq));
    if (seg) this.inUse.add(seg.seq);
    return seg;
  }

  read(seg: SpoolSegment): string {
    return readFileSync(join(this.options.dir, seg.file), 'utf8');
  }

  /** Gives a segment back for a later attempt. */
  release(seg: SpoolSegment): void {
    this.inUse.delete(seg.seq);
  }

  /** The segment was delivered: delete it. */
  complete(seg: SpoolSegment): void {
    this.inUse.delete(seg.seq);
    if (this.segments.includes(seg)) this.unlinkSegment(seg);
  }

  /** Part of the segment was delivered: keep only `text` (`docs` documents) and release it. */
  rewrite(seg: SpoolSegment, text: string, docs: number): void {
    this.inUse.delete(seg.seq);
    if (!this.segments.includes(seg)) return; // dropped meanwhile
    if (docs === 0) {
      this.unlinkSegment(seg);
      return;
    }
    const file = this.writeSegment(seg.seq, docs, text);
    if (file !== seg.file) unlinkSync(join(this.options.dir, seg.file));
    const bytes = Buffer.byteLength(text);
    this.bytesTotal += bytes - seg.bytes;
    this.docsTotal += docs - seg.docs;
    Object.assign(seg, { docs, bytes, file });
  }

  /** Releases the lock; segments stay on disk for the next start. */
  close(): void {
    if (!this.locked) return;
    this.locked = false;
    releasePidLock(join(this.options.dir, LOCK));
  }

  private writeSegment(seq: number, docs: number, text: string): string {
    const file = `${String(seq).padStart(16, '0')}-${docs}.ndjson`;
    const tmp = join(this.options.dir, `.${file}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      if (this.options.fsync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.options.dir, file));
    return file;
  }

  private unlinkSegment(seg: SpoolSegment): void {
    try {
      unlinkSync(join(this.options.dir, seg.file));
    } catch {
      /* already gone */
    }
    this.segments = this.segments.filter((s) => s !== seg);
    this.inUse.delete(seg.seq);
    this.bytesTotal -= seg.bytes;
    this.docsTotal -= seg.docs;
  }

  private recordDrop(docs: number, bytes: number, why: string): void {
    this.counters.dropped_docs += docs;
    this.counters.drop_events += 1;
    try {
      const fd = openSync(join(this.options.dir, DROPS_FILE), 'a', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ at: new Date().toISOString(), docs, bytes, why })}\n`);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* the count in stats and the log line remain */
    }
    this.options.onDrop?.(docs, why);
  }

  private lock(): void {
    const held = takePidLock(join(this.options.dir, LOCK));
    if (held) {
      throw new ProvmonError(`the Elasticsearch spool ${this.options.dir} is in use by process ${held.owner}`, {
        hint: 'two sensors cannot share an output_dir; give each its own',
        exitCode: 2,
      });
    }
    this.locked = true;
  }

  /** Picks up segments left by an earlier run; removes torn temporary files. */
  private recover(): void {
    const bySeq = new Map<number, SpoolSegment>();
    for (const name of readdirSync(this.options.dir)) {
      if (name.endsWith('.tmp')) {
        unlinkSync(join(this.options.dir, name));
        continue;
      }
      const m = SEGMENT.exec(name);
      if (!m) continue;
      const seg: SpoolSegment = { seq: Number(m[1]), docs: Number(m[2]), bytes: statSync(join(this.options.dir, name)).size, file: name };
      const have = bySeq.get(seg.seq);
      // a crash between writing a rewritten segment and deleting the old one leaves both: the smaller is newer
      if (have) {
        const [keep, drop] = have.docs <= seg.docs ? [have, seg] : [seg, have];
        unlinkSync(join(this.options.dir, drop.file));
        bySeq.set(seg.seq, keep);
      } else {
        bySeq.set(seg.seq, seg);
      }
    }
    this.segments = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    for (const s of this.segments) {
      this.bytesTotal += s.bytes;
      this.docsTotal += s.docs;
    }
    this.nextSeq = (this.segments[this.segments.length - 1]?.seq ?? 0) + 1;
  }
}
