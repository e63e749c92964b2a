/**
 * Fault injection: live capture set up with a bad interface or filter (needs root for live capture). Both are
 * configuration mistakes: exit 2, the config key named, nothing half-started left behind.
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProvmon } from '../../../../test/support/provmon-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'provmon-capture-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['an unknown interface', ['--interface', 'nosuchif0'], 'pcap_config.interface: no such interface "nosuchif0"'],
  ['a filter that does not compile', ['--interface', 'lo', '--bpf-filter', 'tcp and and'], 'pcap_config.bpf_filter: bad BPF filter "tcp and and"'],
])('%s exits 2 naming the key (issue 13 item 9: was exit 1)', async (_what, args, message) => {
  const p = spawnProvmon(['run', '--no-ebpf', '--duration', '5', '--events-dir', dir, '--output-dir', dir, ...args]);
  expect(await p.exited).toBe(2);
  expect(p.rawLines.join('\n')).toContain(`provmon: ${message}`);
  expect(p.rawLines.join('\n')).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(p.records.some((r) => r.phase === 'capturing')).toBe(false);
});
