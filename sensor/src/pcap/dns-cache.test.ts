import { expect, test } from 'bun:test';
import { PassiveDnsCache } from './dns-cache.ts';

test('honours the record TTL, capped by dns_cache_ttl', () => {
  const c = new PassiveDnsCache({ maxTtlSec: 300 });
  c.add('10.0.0.1', 'short.test', 30, 1000);
  c.add('10.0.0.2', 'long.test', 86400, 1000);
  expect(c.lookup('10.0.0.1', 1030)).toBe('short.test');
  expect(c.lookup('10.0.0.1', 1031)).toBeUndefined();
  expect(c.lookup('10.0.0.2', 1300)).toBe('long.test');
  expect(c.lookup('10.0.0.2', 1301)).toBeUndefined();
  expect(c.size).toBe(0); // expired entries are dropped when looked up
});

test('a TTL of 0 still names the address for a second', () => {
  const c = new PassiveDnsCache();
  c.add('10.0.0.1', 'zero.test', 0, 50);
  expect(c.lookup('10.0.0.1', 50.5)).toBe('zero.test');
  expect(c.lookup('10.0.0.1', 51.5)).toBeUndefined();
});

test('several names per address, most recent first, bounded', () => {
  const c = new PassiveDnsCache({ maxNamesPerAddress: 3 });
  for (const [i, n] of ['a.test', 'b.test', 'c.test', 'd.test', 'b.test'].entries()) c.add('192.0.2.1', n, 60, i);
  expect(c.names('192.0.2.1', 5)).toEqual(['b.test', 'd.test', 'c.test']);
  expect(c.lookup('192.0.2.1', 5)).toBe('b.test');
});

test('bounded size: the least recently refreshed address goes first', () => {
  const c = new PassiveDnsCache({ maxEntries: 3 });
  c.add('10.0.0.1', 'one', 60, 0);
  c.add('10.0.0.2', 'two', 60, 0);
  c.add('10.0.0.3', 'three', 60, 0);
  c.add('10.0.0.1', 'one', 60, 1); // refresh: now the newest
  c.add('10.0.0.4', 'four', 60, 1);
  expect(c.size).toBe(3);
  expect(c.lookup('10.0.0.2', 2)).toBeUndefined();
  expect(c.lookup('10.0.0.1', 2)).toBe('one');
  expect(c.stats.evicted).toBe(1);
});
