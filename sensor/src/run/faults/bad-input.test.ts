/**
 * Fault injection: bad input to the real `provmon` CLI. The rule: exit 2 (bad usage or configuration), one message
 * that names the key or flag, no stack trace, and no secret echoed back.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnProvmon } from '../../../../test/support/provmon-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'provmon-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LO_PCAPNG = resolve(import.meta.dir, '../../pcap/testdata/lo.pcapng');

async function provmon(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const child = Bun.spawn([resolve(import.meta.dir, '../../../../bin/provmon'), ...args], { stdout: 'pipe', stderr: 'pipe', cwd: dir, env: { ...process.env, PROVMON_LOG_FORMAT: 'json' } });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stderr, stdout };
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('bad input exits 2 with a message, not a stack trace', () => {
  test('an es_host that is not a host name (issue 13 item 8: was a TypeError stack)', async () => {
    const r = await provmon(['run', '--print-config', '--events-dir', dir, '--storage', 'elasticsearch', '--set', 'es_config.es_host=bad host/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('es_config.es_host = "bad host/x"');
    noStack(r.stderr);
  });

  test('--pcap-file naming a directory (was EISDIR with a stack)', async () => {
    const r = await provmon(['run', '--no-ebpf', '--pcap-file', dir, '--events-dir', dir, '--output-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`capture file ${dir} is a directory`);
    noStack(r.stderr);
  });

  test('graph --from further back than a date can hold (was a RangeError stack)', async () => {
    const r = await provmon(['graph', '--poi', 'file:/etc/passwd', '--from', '999999999d', '--events-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('999999999d before now is earlier than any time a date can hold');
    noStack(r.stderr);
  });

  test.each([
    ['ebpf_config.path_prefixes', { ebpf_config: { path_prefixes: [`/${'p'.repeat(300)}`] } }, 'ebpf_config.path_prefixes.0'],
    ['ebpf_config.noise', { ebpf_config: { noise: [{ comm: 'x', exe: `/${'e'.repeat(300)}` }] } }, 'ebpf_config.noise.0.exe'],
    ['hostname', { hostname: 'h'.repeat(1_000_000) }, 'hostname'],
  ])('an oversized %s in the config file names the key (was exit 1 at load time, or copied into every event)', async (key, config, named) => {
    const file = join(dir, `oversized-${key}.json`);
    writeFileSync(file, JSON.stringify(config));
    const r = await provmon(['run', '--print-config', '--events-dir', dir, '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${named} = `);
    expect(r.stderr).toContain('expected at most');
    expect(r.stderr.length).toBeLessThan(2_000); // the value is quoted shortened, not echoed whole
    noStack(r.stderr);
  });

  test('a multi-byte path prefix is bounded in bytes, as the kernel compares it', async () => {
    const ok = await provmon(['run', '--print-config', '--events-dir', dir, '--set', `ebpf_config.path_prefixes=["/${'é'.repeat(127)}"]`]);
    expect(ok.code).toBe(0);
    const tooLong = await provmon(['run', '--print-config', '--events-dir', dir, '--set', `ebpf_config.path_prefixes=["/${'é'.repeat(128)}"]`]);
    expect(tooLong.code).toBe(2);
  });
});

describe('credentials in a URL (issue 13 item 6)', () => {
  const url = 'http://elastic:Pa55-in-url@127.0.0.1:9/';

  test('--print-config shows the URL with the password redacted', async () => {
    const r = await provmon(['run', '--print-config', '--events-dir', dir, '--es', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('Pa55-in-url');
    expect((JSON.parse(r.stdout) as { config: { es_config: { hosts: string[] } } }).config.es_config.hosts).toEqual(['http://elastic:(redacted)@127.0.0.1:9/']);
  });

  test('a validation error quoting the URL redacts the password', async () => {
    const r = await provmon(['run', '--print-config', '--events-dir', dir, '--es', 'ftp://elastic:Pa55-in-url@127.0.0.1:9/']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('es_config.hosts.0 = "ftp://elastic:(redacted)@127.0.0.1:9/"');
    expect(r.stderr).not.toContain('Pa55-in-url');
  });

  test('the run log says the URL credentials are used (basic auth), never "(no auth)", and never shows them', async () => {
    const p = spawnProvmon(['run', '--no-ebpf', '--pcap-file', LO_PCAPNG, '--events-dir', dir, '--output-dir', join(dir, 'out-creds'), '--es', url]);
    expect(await p.exited).toBe(0);
    const text = p.records.map((r) => JSON.stringify(r)).join('\n') + p.rawLines.join('\n');
    expect(text).not.toContain('Pa55-in-url');
    expect(text).not.toContain('(no auth)');
    expect(text).toContain('basic auth as elastic (credentials in the URL)');
  });
});
