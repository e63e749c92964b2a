/**
 * Run inside a test's network namespace (`ip netns exec <ns> bun live-child.ts <iface> <out.json> [linkType]`):
 * live libpcap capture through the full pipeline until SIGTERM, then flush every flow and write
 * the reports, DNS events and capture statistics as JSON. Prints "ready" once capturing.
 */
import { writeFileSync } from 'node:fs';
import { PcapHandle } from '../libpcap.ts';
import type { FlowReport } from '../flows.ts';
import { type DnsEvent, PcapPipeline } from '../pipeline.ts';

const [iface, out, linkType] = process.argv.slice(2);
const flows: FlowReport[] = [];
const dns: DnsEvent[] = [];
const pipeline = new PcapPipeline({ onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e), dnsQueryEvents: 'all' });
const handle = PcapHandle.openLive({ interface: iface!, ...(linkType ? { linkType: linkType as 'LINUX_SLL2' } : {}) });
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
console.log('ready');
await handle.run(pipeline.handle, { signal: ac.signal, onIdle: () => pipeline.tick(Date.now() / 1000) });
handle.dispatch(1_000_000, pipeline.handle); // whatever arrived since the last batch
const stats = handle.stats();
handle.close();
pipeline.finish('shutdown');
writeFileSync(out!, JSON.stringify({ flows, dns, stats, linkType: handle.linkType, snapshot: pipeline.snapshot() }));
