/**
 * Needs root. Real servers (dnsmasq, python3 http.server) and clients (dig, curl, ping) in a network
 * namespace made for the test; dumpcap records the traffic and tshark judges provmon:
 * - offline: captures made now (lo as Ethernet, any as SLL2 pcapng and SLL pcap) read by provmon;
 * - live: provmon captures through libpcap in the namespace while dumpcap records the same packets.
 * Every TCP/UDP conversation tshark lists must be a provmon flow with the same endpoints, packets and
 * bytes; every DNS message tshark decodes must be a provmon DNS event with the same answers; flows to
 * resolved addresses must carry the name.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowReport } from './flows.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2 } from './link-types.ts';
import { type DnsEvent, processCaptureFile } from './pipeline.ts';
import { key, normaliseEvent, tsharkDns } from './testdata/compare-dns.ts';
import { expectFlowsMatchTshark, summarise } from './testdata/compare-flows.ts';
import { TrafficNamespace, WEB4, WEB6, WEB_PORT } from './testdata/real-traffic.ts';

const work = mkdtempSync(join(tmpdir(), 'provmon-realtraffic-'));
const ns = new TrafficNamespace();

beforeAll(async () => {
  await ns.setUp(256 * 1024);
}, 60_000);
afterAll(async () => {
  await ns.tearDown();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function judge(file: string, flows: FlowReport[], dns: DnsEvent[]): void {
  expect(expectFlowsMatchTshark(file, summarise(flows))).toBeGreaterThanOrEqual(15);
  expect(dns.map(normaliseEvent).map(key).sort()).toEqual(tsharkDns(file).map(key).sort());
  const web = flows.filter((f) => f.transport === 'tcp' && f.dstPort === WEB_PORT);
  expect(web.length).toBeGreaterThanOrEqual(3);
  for (const f of web) expect(f.dstDomain).toBe(f.dstIp === WEB4 ? 'web.provmon.test' : f.dstIp === WEB6 ? 'web6.provmon.test' : 'unexpected');
}

describe('offline: captures made by dumpcap during the test', () => {
  for (const [label, args, pcap] of [
    ['lo (Ethernet, pcapng)', ['-i', 'lo'], false],
    ['any (LINUX_SLL2, pcapng)', ['-i', 'any', '-y', 'LINUX_SLL2'], false],
    ['any (LINUX_SLL, pcap)', ['-i', 'any'], true],
  ] as const) {
    test(label, async () => {
      const file = join(work, `${label.replace(/\W+/g, '-')}.${pcap ? 'pcap' : 'pcapng'}`);
      await ns.capture({ interfaceArgs: [...args], outFile: file, pcap }, () => ns.generate());
      const flows: FlowReport[] = [];
      const dns: DnsEvent[] = [];
      const { capture, pipeline } = processCaptureFile(file, { onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e), dnsQueryEvents: 'all' });
      expect(capture.error).toBeUndefined();
      expect(pipeline.snapshot().malformed_total).toBe(0);
      judge(file, flows, dns);
    }, 60_000);
  }
});

describe('live: libpcap through bun:ffi, judged by dumpcap + tshark on the same packets', () => {
  for (const [label, iface, linkType, expected] of [
    ['lo', 'lo', undefined, LINKTYPE_ETHERNET],
    ['any as LINUX_SLL2', 'any', 'LINUX_SLL2', LINKTYPE_LINUX_SLL2],
  ] as const) {
    test(label, async () => {
      const out = join(work, `live-${iface}.json`);
      const child = Bun.spawn(ns.exec([process.execPath, join(import.meta.dir, 'testdata', 'live-child.ts'), iface, out, ...(linkType ? [linkType] : [])]), { stdout: 'pipe', stderr: 'inherit' });
      const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('ready');
      const file = join(work, `live-${iface}.pcapng`);
      await ns.capture({ interfaceArgs: iface === 'any' ? ['-i', 'any', '-y', 'LINUX_SLL2'] : ['-i', iface], outFile: file }, () => ns.generate());
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8')) as { flows: FlowReport[]; dns: DnsEvent[]; stats: { received: number; dropped: number; interfaceDropped: number }; linkType: number; snapshot: { malformed_total: number } };
      expect(result.linkType).toBe(expected);
      expect(result.stats.dropped).toBe(0);
      expect(result.snapshot.malformed_total).toBe(0);
      judge(file, result.flows, result.dns);
    }, 60_000);
  }
});
