/**
 * SHA-1 for the short inputs Community ID hashes (at most 42 bytes), into a caller-owned buffer:
 * with one id per flow, node:crypto's per-call Hash objects and Buffers were a fifth of the
 * pipeline's time on short-flow traffic. Bun.SHA1.hash with an output buffer is native and
 * allocation-free; checked against node:crypto in the tests. Under Node (the Kibana plugin's server runs the
 * offline analysis there) node:crypto does the same job.
 */
import { createHash } from 'node:crypto';

const native = typeof Bun === 'undefined' ? undefined : Bun.SHA1;

/** SHA-1 of data[0, len) into out (20 bytes). */
export function sha1Into(data: Uint8Array, len: number, out: Uint8Array): void {
  const input = len === data.length ? data : data.subarray(0, len);
  if (native) native.hash(input, out);
  else out.set(createHash('sha1').update(input).digest());
}
