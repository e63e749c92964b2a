import { expect, test } from 'bun:test';
import { WriteConditionLog } from './write-condition.ts';

test('a write failure is logged once when it starts, repeated at most once a minute with the count, and once when it ends', () => {
  let now = 0;
  const lines: { level: string; fields: Record<string, unknown> }[] = [];
  const log = {
    warn: (fields: Record<string, unknown>) => lines.push({ level: 'warn', fields }),
    info: (fields: Record<string, unknown>) => lines.push({ level: 'info', fields }),
  };
  const c = new WriteConditionLog(log, 'local store x', 60_000, () => now);
  const enospc = { cause: 'disk_full' as const, code: 'ENOSPC', message: 'ENOSPC: no space left on device, write' };
  for (let i = 0; i < 10_000; i++) {
    now = i * 10; // 100 s of failures, one every 10 ms
    c.failing(enospc, 1);
  }
  expect(lines.map((l) => l.level)).toEqual(['warn', 'warn']); // the start, then one repeat after 60 s
  expect(lines[1]!.fields.dropped).toBe(6001);
  c.recovered();
  c.recovered();
  expect(lines.slice(2)).toEqual([{ level: 'info', fields: { target: 'local store x', cause: 'disk_full', dropped: 10_000, since: new Date(0).toISOString() } }]);
  // another cause is another condition
  c.failing({ cause: 'write_error', code: 'EIO', message: 'EIO' }, 1);
  expect(lines.at(-1)!.fields.code).toBe('EIO');
});
