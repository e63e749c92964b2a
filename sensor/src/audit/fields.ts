/**
 * Decoding audit field values: strings the kernel hex-encoded because they held spaces, quotes or control bytes,
 * sockaddr structures, and the hex numbers of syscall arguments.
 */
import { formatIpv4, formatIpv6 } from '../pcap/ip-address.ts';

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/**
 * An "untrusted string" field (comm, exe, name, cwd, EXECVE args, proctitle): audit writes it "quoted" when it is
 * plain, as bare hex otherwise, and `(null)` or `?` when absent. The record parser keeps the double quotes so the
 * two forms stay apart.
 */
export function untrusted(value: string | undefined): string | undefined {
  if (value === undefined || value === '(null)' || value === '?') return undefined;
  if (value.startsWith('"')) return value.length > 1 && value.endsWith('"') ? value.slice(1, -1) : value.slice(1);
  if (!HEX.test(value)) return value;
  return hexToText(value);
}

/** A plain field's value without the double quotes audit may have put around it. */
export function unquote(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.startsWith('"') ? value.slice(1, value.length > 1 && value.endsWith('"') ? -1 : undefined) : value;
}

export function hexToText(hex: string): string {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/** proctitle: the command line with NUL between arguments, hex-encoded (or quoted when it was one plain word). */
export function proctitleArgs(value: string | undefined): string[] | undefined {
  const text = untrusted(value);
  if (text === undefined) return undefined;
  return text.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** A syscall argument (a0..a3), hex without 0x; as a signed 64-bit value folded into a JS number. */
export function argValue(hex: string | undefined): number | undefined {
  if (hex === undefined || !/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  if (hex.length < 13) return parseInt(hex, 16);
  const big = BigInt.asIntN(64, BigInt(`0x${hex}`));
  return Number(big);
}

export function intValue(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

export type Sockaddr =
  | { family: 'ipv4' | 'ipv6'; ip: string; port: number }
  | { family: 'unix'; path: string }
  | { family: 'other'; number: number };

/** saddr=: the sockaddr as the program passed it, hex; the family in host (little-endian) order, the port in network order. */
export function parseSockaddr(hex: string | undefined): Sockaddr | undefined {
  if (hex === undefined || !HEX.test(hex) || hex.length < 4) return undefined;
  const b = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.substr(i * 2, 2), 16);
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
    const path = new TextDecoder().decode(b.subarray(abstract ? 3 : 2, end));
    return { family: 'unix', path: abstract ? `@${path}` : path };
  }
  return { family: 'other', number: family };
}
