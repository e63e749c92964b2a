/**
 * Names from the kernel (paths, argv, comm, executables) are byte strings, not always valid UTF-8. Documents hold
 * them as text with a reversible escape, so distinct byte strings stay distinct strings (in Elasticsearch, the local
 * store and the graph) and the raw bytes can be recovered. The rule (docs/events.md, "Names that are not UTF-8"):
 *
 * - a name that is valid UTF-8 and does not contain the two characters `\x` is written as is;
 * - any other name is escaped: every byte that is not part of a valid UTF-8 sequence, and every backslash, becomes
 *   `\xNN` (two lowercase hex digits); everything else stays as its character.
 *
 * So an escaped name always contains `\x` and a name written as is never does: the two sets cannot collide, and
 * `isEscapedName` needs no side channel. Inside an escaped name every backslash starts a `\xNN`, so decoding is
 * unambiguous. Pure TypeScript (no Node or Bun APIs): the sensor, the Kibana plugin and the CLI all use it.
 */

const HEX = '0123456789abcdef';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the text is an escaped name (see the rule above). */
export function isEscapedName(text: string): boolean {
  return text.includes('\\x');
}

/** Length of the valid UTF-8 sequence starting at i (1-4), or 0 when the byte there starts none (RFC 3629). */
function sequenceLength(u8: Uint8Array, i: number, end: number): number {
  const b0 = u8[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < end && u8[i + k]! >= lo && u8[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0; // no overlong forms
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (b0 >= 0xe1 && b0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0; // nothing above U+10FFFF
  return 0;
}

/** The escaped form of bytes [start, end): only called when the plain form is not allowed. */
function escapeBytes(u8: Uint8Array, start: number, end: number): string {
  let out = '';
  let run = start; // start of the pending run of valid, non-backslash bytes
  const flush = (to: number): void => {
    if (to > run) out += strictUtf8.decode(u8.subarray(run, to));
  };
  for (let i = start; i < end; ) {
    const n = sequenceLength(u8, i, end);
    if (n === 0 || u8[i] === 0x5c) {
      flush(i);
      out += `\\x${HEX[u8[i]! >> 4]}${HEX[u8[i]! & 15]}`;
      i += 1;
      run = i;
    } else {
      i += n;
    }
  }
  flush(end);
  return out;
}

/**
 * bytes [start, end) as a name, by the rule above. `decoded` is the caller's lenient UTF-8 decoding of the same
 * bytes when it already has one (the hot path decodes first and escapes only when it must).
 */
export function nameFromBytes(u8: Uint8Array, start: number, end: number, decoded?: string): string {
  const text = decoded ?? lenientDecode(u8, start, end);
  // A replacement character is either a real U+FFFD in the name or the decoder's mark of an invalid byte.
  if (!text.includes('\\x') && (!text.includes('\uFFFD') || isValidUtf8(u8, start, end))) return text;
  return escapeBytes(u8, start, end);
}

const lenient = new TextDecoder('utf-8');
function lenientDecode(u8: Uint8Array, start: number, end: number): string {
  return lenient.decode(u8.subarray(start, end));
}

function isValidUtf8(u8: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; ) {
    const n = sequenceLength(u8, i, end);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

/** The raw bytes a name stands for: the inverse of nameFromBytes. */
export function bytesOfName(text: string): Uint8Array {
  const utf8 = new TextEncoder();
  if (!isEscapedName(text)) return utf8.encode(text);
  const parts: number[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\\' && text[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(text.slice(i + 2, i + 4))) {
      parts.push(parseInt(text.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8.encode(ch)) parts.push(b);
      i += ch.length;
    }
  }
  return Uint8Array.from(parts);
}
