import { describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '../../..');
const provmon = (...args: string[]) => {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), ...args], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

describe('provmon setup command line', () => {
  test('documents its flags', () => {
    const { code, stdout } = provmon('setup', '--help');
    expect(code).toBe(0);
    for (const flag of ['--es <url>', '--core-only', '--refresh-enrich', '--config <file>']) expect(stdout).toContain(flag);
  });

  test('--core-only and --refresh-enrich exclude each other', () => {
    const { code, stderr } = provmon('setup', '--core-only', '--refresh-enrich');
    expect(code).toBe(2);
    expect(stderr).toContain('exclude each other');
  });

  test('no cluster at the configured address: a clear error naming it, exit 1', () => {
    const { code, stderr } = provmon('setup', '--core-only', '--es', 'http://127.0.0.1:9');
    expect(code).toBe(1);
    expect(stderr).toContain('cannot reach Elasticsearch at http://127.0.0.1:9 (no auth)');
    expect(stderr).toContain('hint:');
  });
});
