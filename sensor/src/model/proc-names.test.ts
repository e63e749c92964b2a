import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesOfName } from '../../../kibana-plugin/common/escaped-names.ts';
import { readProcess } from './proc-scan.ts';

const root = mkdtempSync(join(tmpdir(), 'provmon-procnames-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('names read from /proc that are not UTF-8 are escaped like the kernel records, not replaced', () => {
  const pid = join(root, '4242');
  mkdirSync(pid);
  const comm = Buffer.concat([Buffer.from('ev'), Buffer.from([0xff]), Buffer.from(') x')]);
  writeFileSync(join(pid, 'stat'), Buffer.concat([Buffer.from('4242 ('), comm, Buffer.from(`) S 1 ${'0 '.repeat(17)}777 0 0`)]));
  writeFileSync(join(pid, 'status'), 'Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
  writeFileSync(join(pid, 'cmdline'), Buffer.concat([Buffer.from('/bin/prog\0arg'), Buffer.from([0xfe]), Buffer.from('\0plain\0')]));
  const exeBytes = Buffer.concat([Buffer.from(`${root}/bin`), Buffer.from([0xff, 0xfe])]);
  symlinkSync(exeBytes, Buffer.from(join(pid, 'exe')));
  symlinkSync('/tmp', join(pid, 'cwd'));
  const snap = readProcess(4242, root)!;
  expect(snap.name).toBe('ev\\xff) x');
  expect(snap.args).toEqual(['/bin/prog', 'arg\\xfe', 'plain']);
  expect(snap.executable).toBe(`${root}/bin\\xff\\xfe`);
  expect(Buffer.from(bytesOfName(snap.executable!))).toEqual(exeBytes);
  expect(snap.cwd).toBe('/tmp');
  expect(snap.startTicks).toBe(777);
});
