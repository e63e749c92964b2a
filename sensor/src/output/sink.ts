import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';

/**
 * Where the sensor's documents go: the local store, Elasticsearch, or both (JSONL copies beside Elasticsearch).
 * write() never blocks the capture side: a sink that cannot keep up buffers within its bounds and counts drops.
 */
export interface EventSink {
  readonly name: string;
  write(doc: EcsEvent): void;
  /** Resolves when everything written so far is durable (delivered, spooled or on disk). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Stop waiting for a slow destination: what is not yet delivered is kept on disk (spool) at once. */
  hurry?(): void;
  /** Counters for live stats, e.g. { written, indexed, retries, spool_bytes, dropped }. */
  stats(): Record<string, number>;
}
