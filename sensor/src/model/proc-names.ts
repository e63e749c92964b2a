import { readFileSync, readlinkSync } from 'node:fs';
import { nameFromBytes } from '../../../kibana-plugin/common/escaped-names.ts';

/**
 * Names read from /proc come as bytes, like the kernel's records: decoded by the same rule
 * (kibana-plugin/common/escaped-names.ts), so a process seen first in /proc and later in the ring has one name,
 * and a name that is not UTF-8 is not silently replaced.
 */
export function nameOf(bytes: Uint8Array): string {
  return nameFromBytes(bytes, 0, bytes.length);
}

/** readlink as a name (throws like readlinkSync). */
export function readlinkName(path: string): string {
  return nameOf(readlinkSync(path, { encoding: 'buffer' }));
}

/** NUL-separated strings of a /proc file (cmdline, environ) as names (throws like readFileSync). */
export function readNulSeparatedNames(path: string): string[] {
  const bytes = readFileSync(path);
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(nameFromBytes(bytes, start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(nameFromBytes(bytes, start, bytes.length));
  return out;
}
