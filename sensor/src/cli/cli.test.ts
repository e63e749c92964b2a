import { describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PROVMON = resolve(import.meta.dir, '../../../bin/provmon');

export function provmon(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync([PROVMON, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PROVMON_LOG_FORMAT: 'json', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'provmon-cwd-')),
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'provmon-cli-')), 'config.json');
  writeFileSync(path, JSON.stringify(content));
  chmodSync(path, 0o600);
  return path;
}

describe('provmon CLI', () => {
  test('--help lists every subcommand', () => {
    const { code, stdout } = provmon(['--help']);
    expect(code).toBe(0);
    for (const sub of ['run', 'setup', 'graph', 'version']) expect(stdout).toContain(`  ${sub} `);
  });

  test('every subcommand has its own --help', () => {
    for (const [sub, flag] of [['run', '--duration'], ['setup', '--core-only'], ['graph', '--poi'], ['version', '--json']] as const) {
      const { code, stdout } = provmon([sub, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(flag);
    }
  });

  test('run --config with a bad flow_timeout exits non-zero naming pcap_config.flow_timeout', () => {
    const { code, stderr } = provmon(['run', '--config', configFile({ pcap_config: { flow_timeout: 'soon' } })]);
    expect(code).toBe(2);
    expect(stderr).toContain('pcap_config.flow_timeout = "soon"');
    expect(stderr).not.toContain('    at '); // no stack trace
  });

  test('an unknown subcommand or option is a usage error', () => {
    expect(provmon(['frobnicate']).code).toBe(2);
    expect(provmon(['run', '--no-such-flag']).code).toBe(2);
    expect(provmon(['graph', '--poi', 'host:x']).stderr).toContain('expected process:<entity_id>');
  });

  test('--print-config shows the merged configuration with secrets redacted', () => {
    const file = configFile({ es_config: { es_password: 'top-secret-pw' }, pcap_config: { flow_timeout: 10 } });
    const { code, stdout } = provmon(['run', '--config', file, '--set', 'pcap_config.flush_interval=5', '--no-pcap', '--print-config'], {
      PROVMON_PCAP_CONFIG__DNS_CACHE_TTL: '7',
    });
    expect(code).toBe(0);
    const shown = JSON.parse(stdout) as { file: string; config: Record<string, Record<string, unknown>>; paths: { eventsDir: string } };
    expect(shown.file).toBe(file);
    expect(shown.config.pcap_config).toMatchObject({ flow_timeout: 10, flush_interval: 5, dns_cache_ttl: 7, enabled: false });
    expect(stdout).not.toContain('top-secret-pw');
    expect(shown.paths.eventsDir).toEndWith('/events');
  });

  test('run with nothing enabled says so', () => {
    const { code, stderr } = provmon(['run', '--no-ebpf', '--no-pcap']);
    expect(code).toBe(2);
    expect(stderr).toContain('nothing to capture');
  });

  test('setup names an unreachable cluster instead of failing with a stack trace', () => {
    const setup = provmon(['setup', '--core-only', '--es', 'http://127.0.0.1:1']);
    expect(setup.code).not.toBe(0);
    expect(setup.stderr).toContain('cannot reach Elasticsearch');
    expect(setup.stderr).not.toContain('    at ');
  });

  test('version prints provmon, Bun and kernel versions', () => {
    const { code, stdout } = provmon(['version', '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as Record<string, string>;
    expect(info.provmon).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.bun).toMatch(/^\d+\.\d+\.\d+/);
    expect(provmon(['--version']).stdout.trim()).toBe(info.provmon!);
  });
});
