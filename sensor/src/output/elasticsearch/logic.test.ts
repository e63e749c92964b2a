import { describe, expect, test } from 'bun:test';
import { backoffCeiling, backoffDelay } from './backoff.ts';
import { Batcher, type Batch, type Timers } from './batcher.ts';
import { BulkRequestError, classifyItem, classifyRequestError, describeRequestError } from './classify.ts';

/** A clock and timers the test moves by hand. */
function fakeClock() {
  let now = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const timers: Timers = {
    set: (fn, ms) => {
      const id = next++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clear: (h) => void pending.delete(h as number),
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = until;
  };
  return { timers, now: () => now, advance };
}

const entry = (n: number, size = 100) => ({ text: `${'x'.repeat(size - 1)}\n`, bytes: size, n });

describe('backoff', () => {
  test('grows exponentially up to the cap, with jitter between half and all of the ceiling', () => {
    const policy = { initialMs: 100, maxMs: 5000 };
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffCeiling(a, policy))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(400);
    expect(backoffDelay(3, policy, () => 1)).toBe(800);
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, policy);
        expect(d).toBeGreaterThanOrEqual(backoffCeiling(attempt, policy) / 2);
        expect(d).toBeLessThanOrEqual(backoffCeiling(attempt, policy));
      }
    }
    // jitter: two senders that failed together do not retry together
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4, policy)));
    expect(delays.size).toBeGreaterThan(5);
  });

  test('huge attempt numbers stay at the cap', () => {
    expect(backoffDelay(1e6, { initialMs: 250, maxMs: 30_000 }, () => 1)).toBe(30_000);
  });
});

describe('batcher', () => {
  function make(o: { maxDocs?: number; maxBytes?: number; maxLatencyMs?: number } = {}) {
    const clock = fakeClock();
    const batches: Batch[] = [];
    const b = new Batcher({ maxDocs: o.maxDocs ?? 10, maxBytes: o.maxBytes ?? 1_000_000, maxLatencyMs: o.maxLatencyMs ?? 1000, onBatch: (x) => batches.push(x), ...clock });
    return { b, batches, clock };
  }

  test('seals a batch at batch_size documents', () => {
    const { b, batches } = make({ maxDocs: 3 });
    for (let i = 0; i < 7; i++) b.add(entry(i));
    expect(batches.map((x) => x.entries.length)).toEqual([3, 3]);
    expect(b.pendingDocs).toBe(1);
  });

  test('seals by bytes, and never puts an entry into a batch it would push over the bound', () => {
    const { b, batches } = make({ maxBytes: 250 });
    for (let i = 0; i < 5; i++) b.add(entry(i, 100));
    expect(batches.map((x) => x.bytes)).toEqual([200, 200]);
    b.add(entry(9, 400)); // larger than the bound on its own: sent alone
    expect(batches.map((x) => x.bytes)).toEqual([200, 200, 100, 400]);
  });

  test('max latency is measured from the first document: a steady trickle is still sent on time', () => {
    const { b, batches, clock } = make({ maxDocs: 1000, maxLatencyMs: 1000 });
    // one document every 100 ms: an idle timer would never fire
    for (let i = 0; i < 25; i++) {
      b.add(entry(i));
      clock.advance(100);
    }
    expect(batches.length).toBe(2);
    expect(batches[0]!.entries.length).toBe(10);
    expect(batches[0]!.openedAt).toBe(0);
    expect(batches[1]!.openedAt).toBe(1000);
    clock.advance(1000);
    expect(batches.reduce((n, x) => n + x.entries.length, 0)).toBe(25);
  });

  test('seal() sends the open batch at once; nothing is sent twice', () => {
    const { b, batches, clock } = make();
    b.add(entry(1));
    b.seal();
    b.seal();
    clock.advance(5000);
    expect(batches.length).toBe(1);
  });
});

describe('classification', () => {
  test('per item: only document errors are dead-lettered; cluster conditions are retried or spooled', () => {
    expect(classifyItem({ status: 201 })).toBe('indexed');
    expect(classifyItem({ status: 409, error: { type: 'version_conflict_engine_exception' } })).toBe('duplicate');
    expect(classifyItem({ status: 429, error: { type: 'es_rejected_execution_exception' } })).toBe('retry');
    for (const s of [502, 503, 504]) expect(classifyItem({ status: s })).toBe('retry');
    expect(classifyItem({ status: 403, error: { type: 'security_exception' } })).toBe('blocked');
    expect(classifyItem({ status: 404, error: { type: 'index_not_found_exception' } })).toBe('blocked');
    expect(classifyItem({ status: 400, error: { type: 'illegal_argument_exception', reason: 'pipeline with id [logs-provmon.flow] does not exist' } })).toBe('blocked');
    expect(classifyItem({ status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [source.port]' } })).toBe('rejected');
    expect(classifyItem({ status: 500, error: { type: 'illegal_state_exception' } })).toBe('rejected');
  });

  test('whole request: transient errors retry, 413 splits, anything else is spooled, never dropped', () => {
    expect(classifyRequestError(new BulkRequestError('ECONNREFUSED', 'connection'))).toBe('retry');
    expect(classifyRequestError(new BulkRequestError('timeout', 'timeout'))).toBe('retry');
    for (const s of [429, 500, 502, 503, 504]) expect(classifyRequestError(new BulkRequestError('x', 'http', s))).toBe('retry');
    expect(classifyRequestError(new BulkRequestError('too large', 'http', 413))).toBe('split');
    for (const s of [400, 401, 403, 404]) expect(classifyRequestError(new BulkRequestError('x', 'http', s))).toBe('blocked');
  });

  test('a 401 tells the user what to check, without quoting any secret', () => {
    const line = describeRequestError(new BulkRequestError('unable to authenticate with provided credentials', 'http', 401, 'security_exception'), 'http://es:9200 (API key)');
    expect(line).toContain('rejected the credentials');
    expect(line).toContain('es_config.api_key');
  });
});
