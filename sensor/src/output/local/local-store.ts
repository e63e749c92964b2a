import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { EventIndex, indexKeys, type IndexQuery } from './event-index.ts';
import { JsonlWriter } from './jsonl-writer.ts';

/** The seed's file names: syscall events in one file, flows in another; DNS answers in a third. */
export const STREAMS = [
  { id: 0, base: 'forensic-events', datasets: ['process', 'file', 'network'] as Dataset[] },
  { id: 1, base: 'pcap-flows', datasets: ['flow'] as Dataset[] },
  { id: 2, base: 'dns', datasets: ['dns'] as Dataset[] },
] as const;

export const INDEX_FILE = 'events-index.sqlite';

export interface LocalStoreOptions {
  dir: string;
  rotateBytes?: number;
  maxFiles?: number;
  /** Index rows are committed in batches of this many events (and on flush()). */
  commitEvery?: number;
}

export interface LocalStoreStats {
  written: Record<Dataset, number>;
  bytes: number;
  rotations: number;
  /** Events whose file was deleted because the max_files bound was reached: counted, never silent. */
  evicted: number;
  reindexed: number;
}

const streamOfDataset = new Map<string, number>(STREAMS.flatMap((s) => s.datasets.map((d) => [`provmon.${d}`, s.id] as const)));
const decoder = new TextDecoder();

/**
 * The local store: JSONL files (the seed's format, one document per line) plus an embedded index beside them for
 * graph and console queries by time, entity id, path and endpoint.
 */
export class LocalStore {
  readonly index: EventIndex;
  private readonly writers: JsonlWriter[];
  private readonly commitEvery: number;
  readonly stats: LocalStoreStats = {
    written: { process: 0, file: 0, network: 0, flow: 0, dns: 0 },
    bytes: 0,
    rotations: 0,
    evicted: 0,
    reindexed: 0,
  };

  constructor(private readonly options: LocalStoreOptions) {
    this.commitEvery = options.commitEvery ?? 4096;
    this.index = new EventIndex(join(options.dir, INDEX_FILE));
    this.writers = STREAMS.map(
      (stream) =>
        new JsonlWriter({
          dir: options.dir,
          base: stream.base,
          rotateBytes: options.rotateBytes ?? 128 * 1024 * 1024,
          maxFiles: options.maxFiles ?? 20,
          onRotate: () => {
            this.stats.rotations += 1;
          },
          onDelete: (fileId) => {
            this.index.commit();
            this.stats.evicted += this.index.removeFile(stream.id, fileId);
          },
        }),
    );
    this.reindexUnindexedTails();
  }

  write(doc: EcsEvent): void {
    const stream = streamOfDataset.get(doc.event.dataset);
    if (stream === undefined) throw new Error(`no local stream for dataset ${doc.event.dataset}`);
    const json = JSON.stringify(doc);
    const at = this.writers[stream]!.append(json);
    this.index.add(indexKeys(doc, stream), at);
    this.stats.written[doc.event.dataset.slice('provmon.'.length) as Dataset] += 1;
    this.stats.bytes += at.length + 1;
    if (this.index.pendingCount >= this.commitEvery) this.flush();
  }

  /** Makes everything written so far durable in the files and visible to queries. */
  flush(): void {
    for (const w of this.writers) w.flush();
    this.index.commit();
  }

  /** Events matching the query, in time order, read back from the JSONL files. */
  query(q: IndexQuery): EcsEvent[] {
    this.flush();
    const hits = this.index.search(q);
    const out: EcsEvent[] = [];
    const fds = new Map<string, number>();
    try {
      for (const hit of hits) {
        const path = this.writers[hit.stream]!.pathOf(hit.fileId);
        if (!path) continue;
        let fd = fds.get(path);
        if (fd === undefined) {
          fd = openSync(path, 'r');
          fds.set(path, fd);
        }
        const buf = new Uint8Array(hit.length);
        readSync(fd, buf, 0, hit.length, hit.offset);
        out.push(JSON.parse(decoder.decode(buf)) as EcsEvent);
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
    return out;
  }

  close(): void {
    for (const w of this.writers) w.close();
    this.index.close();
  }

  /** Lines a crash wrote to a file but never indexed are indexed now, so nothing captured becomes unfindable. */
  private reindexUnindexedTails(): void {
    for (const stream of STREAMS) {
      const writer = this.writers[stream.id]!;
      for (let fileId = 1; fileId < writer.currentFileId; fileId++) {
        const path = writer.pathOf(fileId);
        if (!path) continue;
        const size = statSync(path).size;
        const end = this.index.indexedEnd(stream.id, fileId);
        if (end >= size) continue;
        this.reindexRange(stream.id, fileId, path, end, size);
      }
    }
    this.index.commit();
  }

  private reindexRange(stream: number, fileId: number, path: string, start: number, end: number): void {
    const fd = openSync(path, 'r');
    try {
      const buf = new Uint8Array(end - start);
      readSync(fd, buf, 0, buf.length, start);
      let lineStart = 0;
      for (let i = 0; i < buf.length; i++) {
        if (buf[i] !== 0x0a) continue;
        const text = decoder.decode(buf.subarray(lineStart, i));
        try {
          const doc = JSON.parse(text) as EcsEvent;
          this.index.add(indexKeys(doc, stream), { fileId, offset: start + lineStart, length: i - lineStart });
          this.stats.reindexed += 1;
        } catch {
          // A torn last line from a crash is left in the file for forensics but not indexed.
        }
        lineStart = i + 1;
      }
    } finally {
      closeSync(fd);
    }
  }
}
