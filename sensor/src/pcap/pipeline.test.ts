/**
 * The whole offline pipeline on the committed real-traffic captures, judged by tshark: flows
 * (endpoints, packets, bytes, Community ID), every DNS message over UDP and TCP with its answers,
 * and the passive-DNS names on flows to resolved addresses.
 */
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { FlowReport } from './flows.ts';
import { type DnsEvent, processCaptureFile } from './pipeline.ts';
import { key, normaliseEvent, tsharkDns } from './testdata/compare-dns.ts';
import { expectFlowsMatchTshark, summarise } from './testdata/compare-flows.ts';
import { WEB4, WEB6, WEB_PORT } from './testdata/real-traffic.ts';

for (const name of ['lo.pcapng', 'any-sll.pcap', 'multi-if.pcapng']) {
  describe(name, () => {
    const file = join(import.meta.dir, 'testdata', name);
    const flows: FlowReport[] = [];
    const dns: DnsEvent[] = [];
    const { capture, pipeline } = processCaptureFile(file, { onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e), dnsQueryEvents: 'all' });

    test('nothing malformed, everything flushed', () => {
      expect(capture.error).toBeUndefined();
      const s = pipeline.snapshot();
      expect(s.malformed_total).toBe(0);
      expect(s.dns.malformed_total).toBe(0);
      expect(s.flows.active).toBe(0);
      expect(s.flows.final_reports).toBe(s.flows.flows_created);
    });

    test('flows equal tshark conversations', () => {
      expect(expectFlowsMatchTshark(file, summarise(flows))).toBeGreaterThanOrEqual(15);
    }, 60_000);

    test('every DNS message tshark decodes (UDP and TCP) appears with the same answers', () => {
      const theirs = tsharkDns(file).map(key).sort();
      const ours = dns.map(normaliseEvent).map(key).sort();
      expect(ours).toEqual(theirs);
      expect(dns.some((e) => e.transport === 'tcp' && e.message.response && e.message.answers.length > 0)).toBe(true);
      expect(dns.some((e) => e.ipVersion === 6)).toBe(true);
    });

    test('by default only unanswered queries become events, at the end if not before', () => {
      const events: DnsEvent[] = [];
      processCaptureFile(file, { onDns: (e) => events.push(e) });
      const queries = events.filter((e) => !e.message.response);
      // in multi-if.pcapng the query is there twice (two interfaces): same socket and id, one lookup
      expect(queries.map((e) => e.message.questions[0]!.name)).toEqual(['lost.provmon.test']);
      expect(queries.every((e) => e.unanswered === true)).toBe(true);
      expect(events.filter((e) => e.message.response).length).toBe(dns.filter((e) => e.message.response).length);
    });

    test('responses are timed against their queries and oriented client -> server', () => {
      const responses = dns.filter((e) => e.message.response);
      expect(responses.every((e) => e.durationNs !== undefined && e.durationNs >= 0 && e.durationNs < 1e9)).toBe(true);
      expect(dns.every((e) => e.serverPort === 53)).toBe(true);
      expect(dns.every((e) => e.clientPort !== 53)).toBe(true);
    });

    test('flows to resolved addresses carry the name the client looked up', () => {
      const web = flows.filter((f) => f.transport === 'tcp' && f.dstPort === WEB_PORT);
      expect(web.length).toBeGreaterThanOrEqual(3);
      for (const f of web) expect(f.dstDomain).toBe(f.dstIp === WEB4 ? 'web.provmon.test' : f.dstIp === WEB6 ? 'web6.provmon.test' : 'unexpected');
      // the DNS server itself was never looked up
      expect(flows.filter((f) => f.dstPort === 53).every((f) => f.dstDomain === undefined)).toBe(true);
    });
  });
}
