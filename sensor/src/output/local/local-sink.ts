import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { EventSink } from '../sink.ts';
import { LocalStore, type LocalStoreOptions } from './local-store.ts';

/**
 * The local store as the sensor's output. flush() puts the lines on disk and hands their index rows to the index
 * worker without waiting for it (the index may lag; close() waits for it).
 */
export class LocalSink implements EventSink {
  readonly name = 'local';
  readonly store: LocalStore;

  constructor(options: LocalStoreOptions) {
    this.store = new LocalStore(options);
  }

  write(doc: EcsEvent): void {
    this.store.write(doc);
  }

  async flush(): Promise<void> {
    this.store.flushFiles();
  }

  async close(): Promise<void> {
    this.store.close();
  }

  /**
   * Live stats and the final summary: `written` documents in the files, `indexed` rows in the index (it may lag by
   * `index_queue`), `dropped` documents that reached no file, split by cause into `dropped_disk_full` and
   * `dropped_write_error`.
   */
  stats(): Record<string, number> {
    const s = this.store.stats;
    return {
      written: Object.values(s.written).reduce((a, b) => a + b, 0) - s.lost_at_close,
      indexed: s.indexed,
      index_queue: s.index_queue,
      index_deferred: s.index_deferred,
      index_errors: s.index_errors,
      reindexed: s.reindexed,
      // every document that reached no file, whatever the cause (the Elasticsearch output's `dropped` likewise)
      dropped: s.dropped.disk_full + s.dropped.write_error,
      dropped_disk_full: s.dropped.disk_full,
      dropped_write_error: s.dropped.write_error,
      pending_bytes: s.pending_bytes,
      bytes: s.bytes,
      rotations: s.rotations,
      evicted: s.evicted,
    };
  }
}
