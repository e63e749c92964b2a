import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { AccountNames, parseIdFile } from './account-names.ts';

describe('account names', () => {
  test('the host database names root', () => {
    const names = new AccountNames();
    expect(names.user(0)).toBe('root');
    expect(names.group(0)).toBe('root');
  });

  test('an account added while running is named after the recheck interval; until then it has no name', () => {
    const dir = mkdtempSync('/tmp/provmon-accounts-');
    writeFileSync(`${dir}/passwd`, 'root:x:0:0::/root:/bin/sh\n');
    let now = 0;
    const names = new AccountNames({ passwdPath: `${dir}/passwd`, groupPath: `${dir}/missing`, recheckMs: 1000, now: () => now });
    expect(names.user(1001)).toBeUndefined();
    writeFileSync(`${dir}/passwd`, 'root:x:0:0::/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n');
    utimesSync(`${dir}/passwd`, new Date(), new Date(Date.now() + 5000));
    expect(names.user(1001)).toBeUndefined(); // cached until the recheck interval passes
    now = 1000;
    expect(names.user(1001)).toBe('bob');
    expect(names.group(0)).toBeUndefined(); // no group file: ids stay nameless
    rmSync(dir, { recursive: true, force: true });
  });

  test('malformed lines are skipped, the first name for an id wins, the bound counts what it leaves out', () => {
    let skipped = 0;
    const map = parseIdFile('# comment\nbad line\nneg:x:-1:0\na:x:5:5\nb:x:5:5\nc:x:6:6\nd:x:7:7\n', 2, () => skipped++);
    expect([...map]).toEqual([[5, 'a'], [6, 'c']]);
    expect(skipped).toBe(1);
  });
});
