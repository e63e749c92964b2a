/**
 * Decoding audit field values: strings the kernel hex-encoded because they held spaces, quotes or control bytes,
 * sockaddr structures, and the hex numbers of syscall arguments.
 */
import { formatIpv4, formatIpv6 } from '../pcap/ip-address.ts';

/** hex digit character code → its value, -1 for any other code below 128 */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUE[65 + c] = HEX_VALUE[97 + c] = 10 + c;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The bytes of a string of hex pairs; undefined when it is empty, odd or holds anything but hex digits. */
function hexBytes(hex: string): Uint8Array | undefined {
  const n = hex.length;
  if (n === 0 || (n & 1) !== 0) return undefined;
  const bytes = new Uint8Array(n >> 1);
  for (let i = 0; i < n; i += 2) {
    const hi = hex.charCodeAt(i);
    const lo = hex.charCodeAt(i + 1);
    const h = hi < 128 ? HEX_VALUE[hi]! : -1;
    const l = lo < 128 ? HEX_VALUE[lo]! : -1;
    if (h < 0 || l < 0) return undefined;
    bytes[i >> 1] = (h << 4) | l;
  }
  return bytes;
}

/**
 * An "untrusted string" field (comm, exe, name, cwd, EXECVE args, proctitle): audit writes it "quoted" when it is
 * plain, as bare hex otherwise, and `(null)` or `?` when absent. The record parser keeps the double quotes so the
 * two forms stay apart.
 */
export function untrusted(value: string | undefined): string | undefined {
  if (value === undefined || value === '(null)' || value === '?') return undefined;
  if (value.startsWith('"')) return value.length > 1 && value.endsWith('"') ? value.slice(1, -1) : value.slice(1);
  const bytes = hexBytes(value);
  return bytes ? utf8.decode(bytes) : value;
}

/** A plain field's value without the double quotes audit may have put around it. */
export function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.startsWith('"') ? value.slice(1, value.length > 1 && value.endsWith('"') ? -1 : undefined) : value;
}


/** proctitle: the command line with NUL between arguments, hex-encoded (or quoted when it was one plain word). */
export function proctitleArgs(value: string | undefined): string[] | undefined {
  const text = untrusted(value);
  if (text === undefined) return undefined;
  return text.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** A syscall argument (a0..a3), hex without 0x; as a signed 64-bit value folded into a JS number. */
export function argValue(hex: string | undefined): number | undefined {
  if (hex === undefined || hex.length === 0 || hex.length > 16) return undefined;
  let value = 0;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    const digit = c < 128 ? HEX_VALUE[c]! : -1;
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  // up to 12 digits (48 bits) the sum is exact; wider values are sign-folded through BigInt
  if (hex.length < 13) return value;
  const big = BigInt.asIntN(64, BigInt(`0x${hex}`));
  return Number(big);
}

export function intValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const negative = text.charCodeAt(0) === 45;
  let i = negative ? 1 : 0;
  if (i === text.length) return undefined;
  let value = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  // up to 15 digits the sum is exact (and -0 stays -0, as Number gives it); longer ones round as Number rounds
  if (text.length > 15) return Number(text);
  return negative ? -value : value;
}

export type Sockaddr =
  | { family: 'ipv4' | 'ipv6'; ip: string; port: number }
  | { family: 'unix'; path: string }
  | { family: 'other'; number: number };

/** saddr=: the sockaddr as the program passed it, hex; the family in host (little-endian) order, the port in network order. */
export function parseSockaddr(hex: string | undefined): Sockaddr | undefined {
  const b = hex === undefined || hex.length < 4 ? undefined : hexBytes(hex);
  if (b === undefined) return undefined;
  const family = b[0]! | (b[1]! << 8);
  if (family === 2 && b.length >= 8) return { family: 'ipv4', port: (b[2]! << 8) | b[3]!, ip: formatIpv4(b, 4) };
  if (family === 10 && b.length >= 24) {
    const ip = formatIpv6(b, 8);
    // IPv4 on an AF_INET6 socket arrives v4-mapped; packets carry plain IPv4
    return { family: 'ipv6', port: (b[2]! << 8) | b[3]!, ip: ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip };
  }
  if (family === 1) {
    const abstract = b.length > 2 && b[2] === 0;
    let end = abstract ? 3 : 2;
    while (end < b.length && b[end] !== 0) end++;
    const path = utf8.decode(b.subarray(abstract ? 3 : 2, end));
    return { family: 'unix', path: abstract ? `@${path}` : path };
  }
  return { family: 'other', number: family };
}
