/** BootClock's timestamps: microsecond ISO text, the same whether or not the second's text was made before. */
import { describe, expect, test } from 'bun:test';
import { BootClock } from './clock.ts';

/** The plain formatting: Date's ISO text with three more digits for the microseconds. */
function reference(epochNs: number): string {
  const iso = new Date(Math.floor(epochNs / 1e6)).toISOString();
  return `${iso.slice(0, -1)}${String(Math.floor((epochNs % 1e6) / 1e3)).padStart(3, '0')}Z`;
}

describe('BootClock.toIso', () => {
  test('matches the plain formatting across seconds, minutes, days and back again', () => {
    const clock = new BootClock();
    clock.offsetNs = Date.UTC(2026, 11, 31, 23, 59, 58) * 1e6;
    let bootNs = 0;
    for (let i = 0; i < 20_000; i++) {
      bootNs += (i % 7) * 333_333; // steps under and over a millisecond, crossing seconds and the new year
      expect(clock.toIso(bootNs)).toBe(reference(bootNs + clock.offsetNs));
    }
    // an earlier second after a later one (records of two CPUs interleave)
    expect(clock.toIso(1_500_000)).toBe(reference(1_500_000 + clock.offsetNs));
    expect(clock.toIso(bootNs)).toBe(reference(bootNs + clock.offsetNs));
    expect(clock.toIso(0)).toBe('2026-12-31T23:59:58.000000Z');
  });
});
