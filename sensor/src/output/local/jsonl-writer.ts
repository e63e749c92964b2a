import { closeSync, existsSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Where one line landed, so the index can find it again without a scan. */
export interface LineLocation {
  fileId: number;
  offset: number;
  length: number;
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
  onRotate?: (closedFileId: number, newFileId: number) => void;
  onDelete?: (fileId: number, path: string) => void;
}

const encoder = new TextEncoder();

/**
 * An append-only JSONL file rotated by size. The live file keeps the seed's name so `tail -f` works; each file has a
 * numeric id that never changes, and a rotated file is named by it.
 */
export class JsonlWriter {
  private fd: number;
  private fileId: number;
  private fileBytes: number;
  private buffer: Uint8Array;
  private buffered = 0;
  private readonly bufferBytes: number;
  private readonly rotated: number[];

  constructor(private readonly options: JsonlWriterOptions) {
    this.bufferBytes = options.bufferBytes ?? 1 << 20;
    this.buffer = new Uint8Array(this.bufferBytes);
    this.rotated = this.listRotated();
    this.fileId = this.rotated.length ? this.rotated[this.rotated.length - 1]! + 1 : 1;
    const live = this.livePath();
    // A live file left by an earlier run is rotated first, so every id names exactly one file's content.
    if (existsSync(live) && statSync(live).size > 0) {
      renameSync(live, this.rotatedPath(this.fileId));
      this.rotated.push(this.fileId);
      this.fileId += 1;
      this.enforceMaxFiles();
    }
    this.fd = openSync(live, 'a', 0o600);
    this.fileBytes = 0;
  }

  get currentFileId(): number {
    return this.fileId;
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

  /** Appends one JSON text (without newline) and returns where it went. */
  append(json: string): LineLocation {
    const bytes = encoder.encode(`${json}\n`);
    if (this.fileBytes > 0 && this.fileBytes + bytes.length > this.options.rotateBytes) this.rotate();
    const location = { fileId: this.fileId, offset: this.fileBytes, length: bytes.length - 1 };
    if (bytes.length > this.bufferBytes - this.buffered) this.flush();
    if (bytes.length > this.bufferBytes) {
      writeSync(this.fd, bytes);
    } else {
      this.buffer.set(bytes, this.buffered);
      this.buffered += bytes.length;
    }
    this.fileBytes += bytes.length;
    return location;
  }

  flush(): void {
    let written = 0;
    while (written < this.buffered) written += writeSync(this.fd, this.buffer, written, this.buffered - written);
    this.buffered = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private rotate(): void {
    this.flush();
    closeSync(this.fd);
    const closed = this.fileId;
    renameSync(this.livePath(), this.rotatedPath(closed));
    this.rotated.push(closed);
    this.fileId += 1;
    this.fd = openSync(this.livePath(), 'a', 0o600);
    this.fileBytes = 0;
    this.options.onRotate?.(closed, this.fileId);
    this.enforceMaxFiles();
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
