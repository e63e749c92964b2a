import { describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '../../..');

/** Runs provmon as the unprivileged `nobody` user with no capabilities (needs root to switch user). */
function provmonAsNobody(args: string[]) {
  const cwd = mkdtempSync(join(tmpdir(), 'provmon-nobody-'));
  chmodSync(cwd, 0o777);
  const result = Bun.spawnSync(
    ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', '--', resolve(ROOT, 'bin/provmon'), ...args],
    { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, PROVMON_LOG_FORMAT: 'json' } },
  );
  return { code: result.exitCode, stderr: result.stderr.toString() };
}

describe('provmon run without privileges (needs root to drop them)', () => {
  test.skipIf(process.getuid?.() !== 0)('explains the missing capabilities instead of failing deep in libbpf', () => {
    const { code, stderr } = provmonAsNobody(['run', '--duration', '1']);
    expect(stderr).toContain('eBPF capture needs CAP_BPF and CAP_PERFMON');
    expect(stderr).toContain('packet capture needs CAP_NET_RAW');
    expect(stderr).not.toContain('    at ');
    expect(code).toBe(77);
  });
});
