import { expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { sha1Into } from './sha1.ts';

test('SHA-1 agrees with node:crypto for every length 0..200, from a longer buffer too', () => {
  const out = new Uint8Array(20);
  for (let len = 0; len <= 200; len++) {
    const data = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff);
    const expected = createHash('sha1').update(data).digest('hex');
    sha1Into(data, len, out);
    expect(Buffer.from(out).toString('hex')).toBe(expected);
    const padded = new Uint8Array(len + 9);
    padded.set(data);
    sha1Into(padded, len, out);
    expect(Buffer.from(out).toString('hex')).toBe(expected);
  }
});
