import type { WriteFailure, WriteFailureCause } from './jsonl-writer.ts';

export interface ConditionLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * One log line when writing starts to fail, a repeat at most every `repeatMs` while it lasts (with the count so
 * far), one line when it works again: a full disk is a condition, not ten thousand errors.
 */
export class WriteConditionLog {
  private active: (WriteFailure & { since: number; dropped: number; loggedAt: number }) | undefined;

  constructor(
    private readonly log: ConditionLog | undefined,
    private readonly what: string,
    private readonly repeatMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  failing(failure: WriteFailure, dropped: number): void {
    const now = this.now();
    if (this.active?.cause !== failure.cause) {
      this.active = { ...failure, since: now, dropped: 0, loggedAt: now };
      this.log?.warn(
        { target: this.what, cause: failure.cause, code: failure.code, error: failure.message },
        `${this.what}: ${failure.cause === 'disk_full' ? 'the disk is full' : 'writing fails'} (${failure.code}); documents that do not fit the buffer are dropped and counted until writing works again`,
      );
    }
    this.active.dropped += dropped;
    if (now - this.active.loggedAt >= this.repeatMs) {
      this.active.loggedAt = now;
      this.log?.warn(
        { target: this.what, cause: failure.cause, code: failure.code, dropped: this.active.dropped, since: new Date(this.active.since).toISOString() },
        `${this.what}: still ${failure.cause === 'disk_full' ? 'full' : 'failing'} (${failure.code}); ${this.active.dropped} documents dropped so far`,
      );
    }
  }

  recovered(): void {
    if (!this.active) return;
    const { cause, dropped, since } = this.active;
    this.active = undefined;
    this.log?.info({ target: this.what, cause, dropped, since: new Date(since).toISOString() }, `${this.what}: writing works again; ${dropped} documents were dropped while it failed`);
  }

  get cause(): WriteFailureCause | undefined {
    return this.active?.cause;
  }
}
