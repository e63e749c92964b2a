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
   * `index_queue`), `dropped_disk_full` / `dropped_write_error` documents that reached no file, per cause.
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
      dropped_disk_full: s.dropped.disk_full,
      dropped_write_error: s.dropped.write_error,
      pending_bytes: s.pending_bytes,
      bytes: s.bytes,
      rotations: s.rotations,
      evicted: s.evicted,
    };
  }
}
