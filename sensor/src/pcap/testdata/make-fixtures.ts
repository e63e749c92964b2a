/**
 * Regenerates the committed real-traffic captures in this folder (needs root, dnsmasq, dumpcap):
 *   bun sensor/src/pcap/testdata/make-fixtures.ts
 * lo.pcapng       loopback, Ethernet link type: DNS (UDP+TCP, v4+v6), HTTP (v4+v6), refused TCP, ICMP/ICMPv6
 * multi-if.pcapng two interfaces in one file (lo as Ethernet, `any` as LINUX_SLL2), same script
 * any-sll.pcap    `any` as LINUX_SLL in classic pcap, same script
 * The pure tests compare provmon's reading of these with tshark's, so regenerating them never
 * requires touching a test.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { captureRealTraffic } from './real-traffic.ts';

const dir = import.meta.dir;
await captureRealTraffic([
  { interfaceArgs: ['-i', 'lo'], outFile: join(dir, 'lo.pcapng'), blobBytes: 48 * 1024 },
  { interfaceArgs: ['-i', 'lo', '-i', 'any', '-y', 'LINUX_SLL2'], outFile: join(dir, 'multi-if.pcapng'), blobBytes: 48 * 1024 },
  { interfaceArgs: ['-i', 'any'], outFile: join(dir, 'any-sll.pcap'), pcap: true, blobBytes: 48 * 1024 },
]);
// dumpcap creates 0600 files; the fixtures are meant to be read by anyone running the tests
for (const f of ['lo.pcapng', 'multi-if.pcapng', 'any-sll.pcap']) chmodSync(join(dir, f), 0o644);
console.log('fixtures written to', dir);
