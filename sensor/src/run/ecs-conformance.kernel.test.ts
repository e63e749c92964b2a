/**
 * Everything a real sensor writes (eBPF and loopback packet capture) for a workload covering exec chains, file
 * create/read/write/rename/chmod/delete, TCP/UDP connect and accept, a pipe, a unix socket and DNS, checked against
 * the official ECS definitions (@elastic/ecs). Needs root and the kernel.
 */
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ecsReport } from '../../../test/support/ecs-conformance.ts';
import { startSensor } from '../../../test/support/sensor.ts';
import { canRunKernelTests } from '../ebpf/testdata/harness.ts';

const WORKLOAD = join(import.meta.dir, 'testdata', 'ecs-workload.py');

describe.skipIf(!canRunKernelTests)('ECS conformance of a real capture (root, kernel BPF, loopback capture)', () => {
  test('every document of the workload is ECS, and the workload produced each kind of document', async () => {
    const work = mkdtempSync(join(tmpdir(), 'provmon-ecs-'));
    const dnsPort = 5353; // one of the ports the packet pipeline parses as DNS
    const sensor = await startSensor({ pcapInterface: 'lo', args: ['--set', 'pcap_config.flow_timeout=1', '--set', 'pcap_config.flush_interval=1'] });
    const run = Bun.spawn(['python3', WORKLOAD, work, String(dnsPort)], { stdout: 'pipe', stderr: 'pipe' });
    const code = await run.exited;
    expect({ code, stderr: await new Response(run.stderr).text() }).toEqual({ code: 0, stderr: '' });
    await Bun.sleep(1500);
    await sensor.stop();
    const events = sensor.events();
    const flows = sensor.events('pcap-flows');
    const dns = sensor.events('dns');
    const mine = events.filter((e) => e.process?.args?.includes(WORKLOAD) || e.process?.parent?.args?.includes(WORKLOAD) || e.process?.command_line?.includes(work));
    const actions = new Set(mine.map((e) => e.event.action));
    for (const a of ['exec', 'fork', 'end', 'creation', 'open', 'read', 'write', 'rename', 'permission_change', 'deletion', 'connection_attempted', 'connection_accepted', 'send', 'receive', 'bind', 'listen', 'socket']) {
      expect({ a, seen: actions.has(a as never) }).toEqual({ a, seen: true });
    }
    // the shell's `> piped` redirection created the file: a creation document, not an open
    expect(mine.filter((e) => e.file?.path === join(work, 'piped') && e.event.action === 'creation').map((e) => e.process?.name)).toEqual(['sh']);
    expect(mine.some((e) => e.network?.type === 'unix')).toBe(true);
    // the pipe between echo and cat, and the unix connection, each seen from both ends
    for (const kind of ['pipe', 'unix_socket']) {
      const io = mine.filter((e) => e.provmon?.channel?.kind === kind);
      const joined = io.filter((w) => w.event.action === 'write' && io.some((r) => r.event.action === 'read' && r.file?.path === w.file?.path));
      expect({ kind, joined: joined.length > 0 }).toEqual({ kind, joined: true });
    }
    expect(mine.some((e) => e.network?.transport === 'udp')).toBe(true);
    expect(dns.some((d) => d.dns?.question?.name === 'provmon.test' && d.dns.resolved_ip?.includes('192.0.2.7'))).toBe(true);
    expect(flows.length).toBeGreaterThan(0);
    for (const d of [...events, ...flows, ...dns]) expect(d.host.os?.type).toBe('linux');
    expect(ecsReport([...events, ...flows, ...dns])).toEqual({});
    for (const d of [work, sensor.eventsDir]) rmSync(d, { recursive: true, force: true });
  }, 120_000);
});
