/**
 * Batches bulk entries by count, by bytes, and by a maximum latency: a batch is sealed at most `maxLatencyMs`
 * after its FIRST entry arrived, however steadily entries keep coming (the bulk helper's flushInterval is an
 * idle timer that a steady trickle keeps pushing back, so it bounds nothing).
 */

/** One document ready for _bulk: the action line and the source line, each ending in "\n". */
export interface BulkEntry {
  /** `{"create":{...}}\n{...doc...}\n` */
  text: string;
  /** size of text (UTF-16 code units: bytes for ASCII) */
  bytes: number;
}

export interface Batch {
  entries: BulkEntry[];
  bytes: number;
  /** when the first entry arrived (ms) */
  openedAt: number;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface BatcherOptions {
  maxDocs: number;
  maxBytes: number;
  maxLatencyMs: number;
  onBatch: (batch: Batch) => void;
  now?: () => number;
  timers?: Timers;
}

export class Batcher {
  private current: Batch | null = null;
  private timer: unknown = null;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(private readonly options: BatcherOptions) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? realTimers;
  }

  add(entry: BulkEntry): void {
    // an entry that would push a non-empty batch over the byte bound starts the next batch
    if (this.current && this.current.bytes + entry.bytes > this.options.maxBytes) this.seal();
    if (!this.current) {
      this.current = { entries: [], bytes: 0, openedAt: this.now() };
      this.timer = this.timers.set(() => {
        this.timer = null;
        this.seal();
      }, this.options.maxLatencyMs);
    }
    this.current.entries.push(entry);
    this.current.bytes += entry.bytes;
    if (this.current.entries.length >= this.options.maxDocs || this.current.bytes >= this.options.maxBytes) this.seal();
  }

  /** Hands the open batch (if any) to onBatch now. */
  seal(): void {
    if (this.timer !== null) {
      this.timers.clear(this.timer);
      this.timer = null;
    }
    const batch = this.current;
    this.current = null;
    if (batch && batch.entries.length > 0) this.options.onBatch(batch);
  }

  get pendingDocs(): number {
    return this.current?.entries.length ?? 0;
  }

  get pendingBytes(): number {
    return this.current?.bytes ?? 0;
  }
}
