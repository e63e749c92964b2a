import { describe, expect, test } from 'bun:test';
import { ipSortKey } from './answer.ts';

describe('ipSortKey orders addresses as Elasticsearch orders ip terms', () => {
  test('IPv4 by value, not by text; IPv4 (mapped) after ::1 and before 2001::', () => {
    const ips = ['198.51.0.142', '198.51.0.30', '10.0.0.1', '::1', '2001:db8::1', '::ffff:1.2.3.4', 'fe80::1'];
    expect([...ips].sort((a, b) => (ipSortKey(a) < ipSortKey(b) ? -1 : 1))).toEqual(['::1', '::ffff:1.2.3.4', '10.0.0.1', '198.51.0.30', '198.51.0.142', '2001:db8::1', 'fe80::1']);
    expect(ipSortKey('::ffff:1.2.3.4')).toBe(ipSortKey('1.2.3.4'));
    expect(ipSortKey('2001:db8::1')).toBe('20010db8000000000000000000000001');
  });
});
