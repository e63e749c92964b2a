/**
 * Streaming audit log reader: bytes → lines → records → events → ECS documents, in bounded memory (one chunk, one
 * line of at most maxLineBytes, the grouper's open events, the converter's process table). Several logs (rotated
 * files audit.log.N … audit.log, or logs of one host from several places) go through one grouper and converter in
 * the order given, so an event cut by a rotation is joined again and process identity carries across files.
 */
import { Buffer, isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { ProvmonError } from '../errors.ts';
import type { HostIdentity } from '../model/host.ts';
import { EventGrouper, type GroupOptions, type GroupStats } from './group.ts';
import { parseRecordLine } from './record.ts';
import { AuditConverter, type AuditConversionStats } from './to-ecs.ts';

export interface AuditReadStats {
  bytes: number;
  lines: number;
  records: number;
  records_by_type: Record<string, number>;
  /** non-empty lines that hold no audit record (a syslog line, damage): counted, skipped */
  not_audit_lines: number;
  /** lines longer than maxLineBytes: cut off and skipped */
  oversized_lines: number;
  /** the first few unparseable lines (cut to 200 characters), to name the problem */
  examples: string[];
  group: GroupStats;
  conversion: AuditConversionStats;
  /** host names from node= fields */
  nodes: string[];
}

export interface AuditReaderOptions {
  host: HostIdentity;
  namespace: string;
  maxLineBytes?: number;
  group?: GroupOptions;
  onDocument: (doc: EcsEvent) => void;
  /** called about every 64 KiB of input with the bytes read so far */
  onProgress?: (bytes: number) => void;
}

/** One input: a name for messages and its bytes as chunks. */
export interface AuditInput {
  name: string;
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

export class AuditLogReader {
  readonly stats: AuditReadStats;
  readonly converter: AuditConverter;
  private readonly grouper: EventGrouper;
  private readonly maxLine: number;
  private readonly nodes = new Set<string>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly o: AuditReaderOptions) {
    this.converter = new AuditConverter({ host: o.host, namespace: o.namespace });
    this.grouper = new EventGrouper((event) => this.converter.convert(event, o.onDocument), o.group);
    this.maxLine = o.maxLineBytes ?? 1024 * 1024;
    this.stats = {
      bytes: 0,
      lines: 0,
      records: 0,
      records_by_type: {},
      not_audit_lines: 0,
      oversized_lines: 0,
      examples: [],
      group: this.grouper.stats,
      conversion: this.converter.stats,
      nodes: [],
    };
  }

  /** Reads one input to its end; call finish() after the last one. */
  async read(input: AuditInput): Promise<void> {
    let carry: Uint8Array | null = null;
    let skipping = false;
    let nextProgress = this.stats.bytes + 65536;
    for await (const chunk of input.chunks) {
      this.stats.bytes += chunk.length;
      // an ASCII chunk (audit hex-encodes anything else, so nearly every chunk) gives its lines' text without a decoder
      const ascii = isAscii(chunk) ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : undefined;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        if (skipping) skipping = false;
        else if (carry) {
          const joined: Uint8Array = new Uint8Array(carry.length + nl - start);
          joined.set(carry);
          joined.set(chunk.subarray(start, nl), carry.length);
          carry = null;
          this.line(joined);
        } else if (ascii) this.asciiLine(ascii, start, nl);
        else this.line(chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < chunk.length && !skipping) {
        const rest = chunk.subarray(start);
        const size = (carry?.length ?? 0) + rest.length;
        if (size > this.maxLine) {
          // a line past the bound: counted, and its remainder skipped up to the next newline
          this.stats.oversized_lines += 1;
          this.stats.lines += 1;
          carry = null;
          skipping = true;
        } else if (carry) {
          const joined: Uint8Array = new Uint8Array(size);
          joined.set(carry);
          joined.set(rest, carry.length);
          carry = joined;
        } else carry = rest.slice();
      }
      if (this.stats.bytes >= nextProgress) {
        nextProgress = this.stats.bytes + 65536;
        this.o.onProgress?.(this.stats.bytes);
      }
    }
    // a last line without its newline is still a line (a log cut mid-write keeps what it has)
    if (carry && !skipping) this.line(carry);
    this.o.onProgress?.(this.stats.bytes);
  }

  finish(): AuditReadStats {
    this.grouper.finish();
    this.stats.nodes = [...this.nodes];
    return this.stats;
  }

  private line(bytes: Uint8Array): void {
    if (this.counted(bytes.length)) this.record(this.decoder.decode(bytes));
  }

  private asciiLine(chunk: Buffer, from: number, to: number): void {
    if (this.counted(to - from)) this.record(chunk.toString('latin1', from, to));
  }

  /** Counts a line of this many bytes; false when there is nothing to parse (empty, or past the bound). */
  private counted(bytes: number): boolean {
    this.stats.lines += 1;
    if (bytes === 0) return false;
    if (bytes > this.maxLine) {
      this.stats.oversized_lines += 1;
      return false;
    }
    return true;
  }

  private record(text: string): void {
    const record = parseRecordLine(text);
    if (record === null) {
      if (text.trim() === '') return;
      this.stats.not_audit_lines += 1;
      if (this.stats.examples.length < 5) this.stats.examples.push(text.slice(0, 200));
      return;
    }
    this.stats.records += 1;
    this.stats.records_by_type[record.type] = (this.stats.records_by_type[record.type] ?? 0) + 1;
    if (record.node !== undefined && this.nodes.size < 64) this.nodes.add(record.node);
    this.grouper.add(record);
  }
}

/** A file's bytes in chunks of one reused buffer. */
export function* fileChunks(path: string, chunkBytes = 1 << 20): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProvmonError(`cannot open audit log ${path}: ${code ?? (error as Error).message}`, {
      hint: code === 'ENOENT' ? 'check the path given to --audit-log' : 'audit logs are root-only by default (/var/log/audit is 0700): run as root or copy the file',
      exitCode: code === 'ENOENT' ? 2 : 1,
      cause: error,
    });
  }
  const buf = new Uint8Array(chunkBytes);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether these bytes (the start of a file) look like an audit log: at least one of the first lines is a record.
 * For a clear error on a file that is something else (a pcap given as --audit-log, a JSON export).
 */
export function looksLikeAuditLog(head: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 64 * 1024));
  const lines = text.split('\n').slice(0, 50);
  return lines.some((l) => parseRecordLine(l) !== null);
}

/** The time of the first record in a file (ms), to order rotated logs; undefined when none is found near the start. */
export function firstRecordTime(head: Uint8Array): number | undefined {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 64 * 1024));
  for (const line of text.split('\n').slice(0, 200)) {
    const r = parseRecordLine(line);
    if (r) return r.timeMs;
  }
  return undefined;
}
