import { describe, expect, test } from 'bun:test';
import { bytesOfName, isEscapedName, nameFromBytes } from './escaped-names.ts';

const name = (bytes: number[] | string): string => {
  const u8 = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes);
  return nameFromBytes(u8, 0, u8.length);
};

describe('escaped names', () => {
  test('valid UTF-8 without "\\x" is written as is', () => {
    expect(name('/tmp/données été/ü')).toBe('/tmp/données été/ü');
    expect(name('C:\\path')).toBe('C:\\path');
    expect(isEscapedName(name('/tmp/plain'))).toBe(false);
  });

  test('every invalid form is escaped: stray continuation, overlong, surrogate, beyond U+10FFFF, cut sequence', () => {
    expect(name([0x61, 0x80])).toBe('a\\x80');
    expect(name([0xc0, 0xaf])).toBe('\\xc0\\xaf'); // overlong "/"
    expect(name([0xed, 0xa0, 0x80])).toBe('\\xed\\xa0\\x80'); // UTF-16 surrogate
    expect(name([0xf4, 0x90, 0x80, 0x80])).toBe('\\xf4\\x90\\x80\\x80');
    expect(name([0x61, 0xe2, 0x82])).toBe('a\\xe2\\x82');
    // valid sequences around invalid bytes stay characters; backslashes in an escaped name are escaped too
    expect(name([0xc3, 0xa9, 0xff, 0x5c, 0x61])).toBe('é\\xff\\x5ca');
  });

  test('the encoding is injective and reversible over random byte strings', () => {
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    const seen = new Map<string, string>();
    const alphabet = [0x5c, 0x78, 0x61, 0xff, 0xfe, 0xc3, 0xa9, 0xef, 0xbf, 0xbd, 0x80, 0xe2, 0x82, 0xac, 0xf0, 0x9f];
    for (let i = 0; i < 20_000; i++) {
      const bytes = Array.from({ length: 1 + (rand() % 8) }, () => alphabet[rand() % alphabet.length]!);
      const key = bytes.join(',');
      const text = name(bytes);
      expect(Array.from(bytesOfName(text))).toEqual(bytes);
      const other = seen.get(text);
      if (other !== undefined) expect(other).toBe(key);
      seen.set(text, key);
    }
  });
});
