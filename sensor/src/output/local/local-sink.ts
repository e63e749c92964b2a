import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import type { EventSink } from '../sink.ts';
import { LocalStore, type LocalStoreOptions } from './local-store.ts';

/** The local store as the sensor's output: synchronous underneath, so flush() is immediate. */
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
    this.store.flush();
  }

  async close(): Promise<void> {
    this.store.close();
  }

  stats(): Record<string, number> {
    const s = this.store.stats;
    return { written: Object.values(s.written).reduce((a, b) => a + b, 0), bytes: s.bytes, rotations: s.rotations, evicted: s.evicted };
  }
}
