import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where one line landed, so the index can find it again without a scan. */
export interface LineLocation {
  fileId: number;
  offset: number;
  length: number;
}

/** Why bytes could not reach the disk: a full disk (or quota) returns, other write errors usually do not. */
export type WriteFailureCause = 'disk_full' | 'write_error';

export interface WriteFailure {
  cause: WriteFailureCause;
  /** the errno name, e.g. ENOSPC */
  code: string;
  message: string;
}

export interface JsonlWriterOptions {
  dir: string;
  /** e.g. "forensic-events": the live file is forensic-events.jsonl, rotated ones forensic-events.<id>.jsonl */
  base: string;
  rotateBytes: number;
  /** Rotated files kept; the oldest beyond this is deleted and reported through onDelete. */
  maxFiles: number;
  /** Buffered bytes before a write(2); lines are durable after flush(). */
  bufferBytes?: number;
  /** After a failed write(2), appends only buffer (no new attempt) for this long. Default 1000 ms. */
  retryAfterMs?: number;
  onRotate?: (closedFileId: number, newFileId: number) => void;
  onDelete?: (fileId: number, path: string) => void;
  /** A file was opened (at start or by a rotation): its inode tells it apart from a later file of the same name. */
  onOpen?: (fileId: number, inode: number) => void;
  /** A torn last line (a crash mid-write) was cut from a file left by an earlier run. */
  onTornTail?: (path: string, bytes: number) => void;
  now?: () => number;
}

const encoder = new TextEncoder();
const NEWLINE = 0x0a;

function causeOf(error: unknown): WriteFailure {
  const e = error as NodeJS.ErrnoException;
  const code = e.code ?? 'EIO';
  return { cause: code === 'ENOSPC' || code === 'EDQUOT' ? 'disk_full' : 'write_error', code, message: e.message ?? String(error) };
}

/**
 * An append-only JSONL file rotated by size. The live file keeps the seed's name so `tail -f` works; each file has a
 * numeric id that never changes, and a rotated file is named by it.
 *
 * Bytes are written exactly once and in order: after a short write or a failed write(2) (a full disk), the unwritten
 * rest stays in the buffer and goes out first when writing works again. A line that finds no room in the buffer
 * while writing fails is refused (append returns undefined) and counted by the caller, so every location handed out
 * names the bytes that will be in the file.
 */
export class JsonlWriter {
  private fd: number;
  private fileId: number;
  /** bytes of the live file, counting the buffered ones not yet written */
  private fileBytes: number;
  private buffer: Uint8Array;
  /** buffer[written, buffered) is waiting for write(2) */
  private written = 0;
  private buffered = 0;
  private readonly bufferBytes: number;
  private readonly rotated: number[];
  private readonly now: () => number;
  private retryAt = 0;
  /** the last write failure while it lasts; undefined once a write succeeds again */
  failure: WriteFailure | undefined;

  constructor(private readonly options: JsonlWriterOptions) {
    this.bufferBytes = options.bufferBytes ?? 1 << 20;
    this.buffer = new Uint8Array(this.bufferBytes);
    this.now = options.now ?? Date.now;
    this.rotated = this.listRotated();
    this.fileId = this.rotated.length ? this.rotated[this.rotated.length - 1]! + 1 : 1;
    const live = this.livePath();
    // A live file left by an earlier run is rotated first, so every id names exactly one file's content.
    if (existsSync(live) && statSync(live).size > 0) {
      this.cutTornTail(live);
      renameSync(live, this.rotatedPath(this.fileId));
      this.rotated.push(this.fileId);
      this.fileId += 1;
      this.enforceMaxFiles();
    }
    this.fd = this.openLive();
    this.fileBytes = 0;
  }

  get currentFileId(): number {
    return this.fileId;
  }

  /** Ids of the rotated files on disk, oldest first. */
  get rotatedIds(): readonly number[] {
    return this.rotated;
  }

  /** Bytes of the live file that are in the file (written), as opposed to still in the buffer. */
  get durableBytes(): number {
    return this.fileBytes - (this.buffered - this.written);
  }

  /** Bytes waiting in the buffer for write(2). */
  get pendingBytes(): number {
    return this.buffered - this.written;
  }

  livePath(): string {
    return join(this.options.dir, `${this.options.base}.jsonl`);
  }

  rotatedPath(fileId: number): string {
    return join(this.options.dir, `${this.options.base}.${fileId}.jsonl`);
  }

  pathOf(fileId: number): string | undefined {
    if (fileId === this.fileId) return this.livePath();
    return this.rotated.includes(fileId) ? this.rotatedPath(fileId) : undefined;
  }

  /** Appends one JSON text (without newline) and returns where it went, or undefined when it had to be refused. */
  append(json: string): LineLocation | undefined {
    // encodeInto writes at most 3 bytes per UTF-16 unit: make that much room, then encode in place (no copy).
    const worst = json.length * 3 + 1;
    if (worst > this.bufferBytes) return this.appendLarge(json);
    if (worst > this.bufferBytes - this.buffered && !this.makeRoom(worst)) return undefined;
    const at = this.buffered;
    const length = encoder.encodeInto(json, this.buffer.subarray(at)).written;
    // The line is encoded past `buffered`, so rotate()'s flush leaves it out; it moves to the front of the empty
    // buffer afterwards. A file that cannot be closed (its bytes cannot be written) keeps growing instead.
    if (this.fileBytes > 0 && this.fileBytes + length + 1 > this.options.rotateBytes && this.rotate() && at > 0) {
      this.buffer.copyWithin(0, at, at + length);
    }
    this.buffer[this.buffered + length] = NEWLINE;
    const location = { fileId: this.fileId, offset: this.fileBytes, length };
    this.buffered += length + 1;
    this.fileBytes += length + 1;
    return location;
  }

  /**
   * Writes what is buffered. Returns false when write(2) failed (the rest stays buffered, `failure` says why); the
   * next attempt happens on the next flush() or when an append needs room after `retryAfterMs`.
   */
  flush(): boolean {
    while (this.written < this.buffered) {
      try {
        this.written += writeSync(this.fd, this.buffer, this.written, this.buffered - this.written);
      } catch (error) {
        this.failure = causeOf(error);
        this.retryAt = this.now() + (this.options.retryAfterMs ?? 1000);
        return false;
      }
    }
    this.written = 0;
    this.buffered = 0;
    this.failure = undefined;
    return true;
  }

  /**
   * Lines still buffered (not written) when the file is closed are lost: their count is returned. A line only partly
   * written is cut from the file, so the file ends with a whole line whatever the disk did.
   */
  close(): number {
    this.flush();
    let lost = 0;
    for (let i = this.written; i < this.buffered; i++) if (this.buffer[i] === NEWLINE) lost++;
    this.written = this.buffered = 0;
    closeSync(this.fd);
    if (lost > 0) this.cutTornTail(this.livePath());
    return lost;
  }

  private makeRoom(bytes: number): boolean {
    if (this.failure && this.now() < this.retryAt) {
      this.compact();
      return bytes <= this.bufferBytes - this.buffered;
    }
    if (!this.flush()) {
      this.compact();
      return bytes <= this.bufferBytes - this.buffered;
    }
    return true;
  }

  /** After a partial write, slides the unwritten rest to the front so the room the written part held can be used. */
  private compact(): void {
    if (this.written === 0) return;
    this.buffer.copyWithin(0, this.written, this.buffered);
    this.buffered -= this.written;
    this.written = 0;
  }

  private appendLarge(json: string): LineLocation | undefined {
    if (!this.makeRoom(this.bufferBytes) || this.buffered > 0) return undefined;
    const bytes = encoder.encode(`${json}\n`);
    if (this.fileBytes > 0 && this.fileBytes + bytes.length > this.options.rotateBytes) this.rotate();
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (error) {
      this.failure = causeOf(error);
      this.retryAt = this.now() + (this.options.retryAfterMs ?? 1000);
      if (done === 0) return undefined;
      // Part of the line is in the file: keep the rest (bounded by this one line) so the line completes later.
      this.buffer = new Uint8Array(Math.max(this.bufferBytes, bytes.length - done));
      this.buffer.set(bytes.subarray(done));
      this.buffered = bytes.length - done;
    }
    const location = { fileId: this.fileId, offset: this.fileBytes, length: bytes.length - 1 };
    this.fileBytes += bytes.length;
    return location;
  }

  /**
   * Closes the live file under its id and opens a new one; not while its bytes cannot be written. The new file is
   * created under a temporary name first: if even that fails (a full disk, no inodes), the live file stays as it is.
   */
  private rotate(): boolean {
    if (!this.flush()) return false;
    const next = join(this.options.dir, `.${this.options.base}.next.jsonl`);
    let fd: number;
    try {
      fd = openSync(next, 'w', 0o600);
    } catch (error) {
      this.failure = causeOf(error);
      this.retryAt = this.now() + (this.options.retryAfterMs ?? 1000);
      return false;
    }
    const closed = this.fileId;
    renameSync(this.livePath(), this.rotatedPath(closed));
    renameSync(next, this.livePath());
    closeSync(this.fd);
    this.fd = fd;
    this.rotated.push(closed);
    this.fileId += 1;
    this.options.onOpen?.(this.fileId, fstatSync(fd).ino);
    this.fileBytes = 0;
    this.options.onRotate?.(closed, this.fileId);
    this.enforceMaxFiles();
    return true;
  }

  private openLive(): number {
    const fd = openSync(this.livePath(), 'a', 0o600);
    this.options.onOpen?.(this.fileId, fstatSync(fd).ino);
    return fd;
  }

  /** A crash mid-line leaves a fragment after the last newline: cut it so the next line cannot fuse with it. */
  private cutTornTail(path: string): void {
    const fd = openSync(path, 'r+');
    try {
      const size = fstatSync(fd).size;
      const tail = new Uint8Array(Math.min(size, 1 << 20));
      let end = size;
      while (end > 0) {
        const start = Math.max(0, end - tail.length);
        const n = readSync(fd, tail, 0, end - start, start);
        const at = tail.subarray(0, n).lastIndexOf(NEWLINE);
        if (at >= 0) {
          end = start + at + 1;
          break;
        }
        end = start;
      }
      if (end < size) {
        ftruncateSync(fd, end);
        this.options.onTornTail?.(path, size - end);
      }
    } finally {
      closeSync(fd);
    }
  }

  private enforceMaxFiles(): void {
    while (this.rotated.length > this.options.maxFiles) {
      const oldest = this.rotated.shift()!;
      const path = this.rotatedPath(oldest);
      unlinkSync(path);
      this.options.onDelete?.(oldest, path);
    }
  }

  private listRotated(): number[] {
    const pattern = new RegExp(`^${this.options.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.jsonl$`);
    return readdirSync(this.options.dir)
      .map((name) => pattern.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}
