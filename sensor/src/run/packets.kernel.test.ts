/**
 * Packet capture inside `provmon run` (needs root: eBPF and live capture on loopback): flows of a real HTTP fetch
 * carry the process that made the connection, and `--pcap-file` turns a capture file into flow and DNS documents.
 */
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { startSensor } from '../../../test/support/sensor.ts';
import { processCaptureFile } from '../pcap/pipeline.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const isRoot = process.getuid?.() === 0;

function jsonl(path: string): EcsEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EcsEvent);
}

describe.skipIf(!isRoot)('packets in provmon run (root, kernel BPF, loopback capture)', () => {
  test('a flow made by a known process carries its entity id', async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('hello from provmon test\n') });
    const port = server.port; // read before stop(), which resets it
    const sensor = await startSensor({ pcapInterface: 'lo', args: ['--set', 'pcap_config.flow_timeout=2', '--set', 'pcap_config.flush_interval=2'] });
    // Asynchronous: the server answers from this very event loop.
    const fetch = Bun.spawn(['python3', '-c', `import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${port}/').read())`]);
    expect(await fetch.exited).toBe(0);
    await Bun.sleep(300);
    const summary = await sensor.stop();
    server.stop(true);
    expect(summary.packetsDropped).toBe(0);
    const flows = sensor.events('pcap-flows').filter((f) => f.destination?.port === port);
    expect(flows.length).toBeGreaterThan(0);
    const connect = sensor.events().find((e) => e.event.action === 'connection_attempted' && e.destination?.port === port);
    expect(connect?.process?.name).toStartWith('python');
    const attributed = flows.filter((f) => f.process?.entity_id === connect!.process!.entity_id);
    expect(attributed.length).toBe(flows.length);
    expect(flows.reduce((n, f) => n + (f.destination?.bytes ?? 0), 0)).toBeGreaterThan('hello from provmon test\n'.length);
    expect(summary.flowsAttributed).toBeGreaterThan(0);
  });
});

describe('provmon run --pcap-file', () => {
  const capture = resolve(ROOT, 'sensor/src/pcap/testdata/lo.pcapng');

  test('writes every flow and DNS answer of the file to the local store and exits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provmon-pcapfile-'));
    const run = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'run', '--no-ebpf', '--pcap-file', capture, '--events-dir', dir, '--log-format', 'json']);
    expect(run.exitCode).toBe(0);
    let flows = 0;
    let dns = 0;
    processCaptureFile(capture, { onFlow: () => flows++, onDns: () => dns++ });
    expect(flows).toBeGreaterThan(0);
    expect(jsonl(join(dir, 'pcap-flows.jsonl'))).toHaveLength(flows);
    expect(jsonl(join(dir, 'dns.jsonl'))).toHaveLength(dns);
    expect(jsonl(join(dir, 'dns.jsonl')).some((d) => (d.dns?.resolved_ip?.length ?? 0) > 0)).toBe(true);
  });

  test('a file that is not a capture is a clear error, not a stack trace', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'provmon-pcapfile-')), 'bad.pcap');
    writeFileSync(bad, 'definitely not a capture');
    const run = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'run', '--pcap-file', bad, '--events-dir', join(tmpdir(), 'provmon-bad-out')]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr.toString()).toContain('is not a pcap or pcapng file');
    expect(run.stderr.toString()).not.toContain('    at ');
  });
});
