import { describe, expect, test } from 'bun:test';
import { RecordQueue, createQueueBuffers } from './record-queue.ts';

const record = (n: number, len: number) => Uint8Array.from({ length: len }, (_, i) => (n * 31 + i) & 0xff);

function popAll(q: RecordQueue): Uint8Array[] {
  const out: Uint8Array[] = [];
  q.pop((_dv, u8, off, len) => void out.push(new Uint8Array(u8.subarray(off, off + len)))); // a copy: the views are reused
  return out;
}

describe('RecordQueue', () => {
  test('records come out whole and in order across many wrap-arounds of the byte ring', () => {
    const q = new RecordQueue(createQueueBuffers(4096));
    const seen: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    for (let n = 0; n < 5000; n++) {
      const r = record(n, 1 + ((n * 37) % 300)); // odd lengths: padding and WRAP frames both happen
      while (!q.push(r, 0, r.length)) {
        q.publish();
        seen.push(...popAll(q));
      }
      sent.push(r);
      if (n % 7 === 0) q.publish();
    }
    q.publish();
    seen.push(...popAll(q));
    expect(seen.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) expect(seen[i]).toEqual(sent[i]!);
    expect(q.used()).toBe(0);
  });

  test('a full queue refuses a record without writing anything, and takes it once space is freed', () => {
    const q = new RecordQueue(createQueueBuffers(4096));
    const big = record(1, 1000);
    let pushed = 0;
    while (q.push(big, 0, big.length)) pushed++;
    expect(pushed).toBe(4); // 4 × (8 + 1000) bytes fit in 4096; a fifth does not
    q.publish();
    expect(popAll(q).length).toBe(4);
    expect(q.push(big, 0, big.length)).toBe(true);
  });

  test('unpublished records are invisible to the consumer', () => {
    const q = new RecordQueue(createQueueBuffers(4096));
    q.push(record(2, 10), 0, 10);
    expect(popAll(q)).toEqual([]);
    q.publish();
    expect(popAll(q).length).toBe(1);
  });

  test('the size must be a power of two of at least a page', () => {
    expect(() => createQueueBuffers(5000)).toThrow(/power of two/);
    expect(() => createQueueBuffers(1024)).toThrow(/power of two/);
  });
});
