import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { EVENT_ACTIONS } from '../../../kibana-plugin/common/ecs.ts';
import { dnsDocument, flowDocument, isoTime } from './ecs.ts';
import type { FlowReport } from './flows.ts';
import { type DnsEvent, processCaptureFile } from './pipeline.ts';
import { WEB4, WEB_PORT } from './testdata/real-traffic.ts';

const host = { name: 'sensor-1', id: '0123456789abcdef0123456789abcdef' };
const file = join(import.meta.dir, 'testdata', 'lo.pcapng');
const flows: FlowReport[] = [];
const dns: DnsEvent[] = [];
// a short flush interval forces interim reports of the HTTP flows in this 1-second capture
processCaptureFile(file, { onFlow: (r) => flows.push(r), onDns: (e) => dns.push(e), flushIntervalSec: 0.001 });
const flowDocs = flows.map((r) => flowDocument(r, { host, capture: { received: 10, dropped: 1, interfaceDropped: 0 } }));
const dnsDocs = dns.map((e) => dnsDocument(e, { host, namespace: 'prod' }));

// ECS 9.4 event.type values allowed for event.category network
const NETWORK_TYPES = ['access', 'allowed', 'connection', 'denied', 'end', 'info', 'protocol', 'start'];

test('isoTime keeps nanoseconds', () => {
  expect(isoTime(1700000000, 970489111)).toBe('2023-11-14T22:13:20.970489111Z');
  expect(isoTime(0, 5)).toBe('1970-01-01T00:00:00.000000005Z');
});

describe('flow documents', () => {
  test('categorisation, action, data stream', () => {
    for (const d of flowDocs) {
      expect(d.event.category).toEqual(['network']);
      expect(d.event.type.every((t) => NETWORK_TYPES.includes(t))).toBe(true);
      expect(EVENT_ACTIONS.flow).toContain(d.event.action as 'network_flow');
      expect(d.event.type.includes('end')).toBe(d.provmon.flow.final);
      expect(d.data_stream).toEqual({ type: 'logs', dataset: 'provmon.flow', namespace: 'default' });
      expect(d.event.dataset).toBe('provmon.flow');
      expect(d.network?.community_id).toMatch(/^1:[A-Za-z0-9+/]{27}=$/);
      expect(d.provmon.pcap).toEqual({ received: 10, dropped: 1, interface_dropped: 0 });
    }
  });

  test('times: duration is end - start in ns, @timestamp is the end of the report', () => {
    for (const [i, d] of flowDocs.entries()) {
      const r = flows[i]!;
      expect(d.event.duration).toBe((r.endSec - r.startSec) * 1e9 + (r.endNsec - r.startNsec));
      expect(d['@timestamp']).toBe(d.event.end!);
      // the ISO strings agree with the duration to the millisecond Date can parse
      expect(Math.abs(Date.parse(d.event.end!) - Date.parse(d.event.start!) - d.event.duration! / 1e6)).toBeLessThan(1);
    }
  });

  test('deltas: summing every document of a flow gives its final totals; ids are unique', () => {
    const byFlow = new Map<string, typeof flowDocs>();
    for (const d of flowDocs) byFlow.set(d.provmon.flow.id, [...(byFlow.get(d.provmon.flow.id) ?? []), d]);
    expect([...byFlow.values()].some((docs) => docs.length > 1)).toBe(true);
    for (const docs of byFlow.values()) {
      const last = docs.at(-1)!;
      expect(last.provmon.flow.final).toBe(true);
      expect(docs.filter((d) => d.provmon.flow.final).length).toBe(1);
      const sum = (f: (d: (typeof docs)[number]) => number) => docs.reduce((n, d) => n + f(d), 0);
      expect(sum((d) => d.source!.bytes!)).toBe(last.provmon.flow.total.source.bytes);
      expect(sum((d) => d.destination!.packets!)).toBe(last.provmon.flow.total.destination.packets);
      expect(sum((d) => d.network!.bytes!)).toBe(last.provmon.flow.total.source.bytes + last.provmon.flow.total.destination.bytes);
    }
    expect(new Set(flowDocs.map((d) => d.event.id)).size).toBe(flowDocs.length);
  });

  test('seed fields: tcp flags list, dns_resolved with the domain', () => {
    const web = flowDocs.filter((d) => d.destination?.ip === WEB4 && d.destination.port === WEB_PORT && d.provmon.flow.final);
    expect(web.length).toBe(2);
    for (const d of web) {
      expect(d.destination!.domain).toBe('web.provmon.test');
      expect(d.provmon.flow.dns_resolved).toBe(true);
      expect(d.provmon.flow.tcp_flags).toEqual(['SYN', 'ACK', 'PSH', 'FIN']);
      expect(d.provmon.flow.state).toBe('SF');
      expect(d.network!.transport).toBe('tcp');
      expect(d.network!.iana_number).toBe('6');
      expect(d.related.hosts).toEqual(['web.provmon.test']);
    }
    const toDns = flowDocs.find((d) => d.destination?.port === 53)!;
    expect(toDns.provmon.flow.dns_resolved).toBe(false);
    const icmp = flowDocs.find((d) => d.network?.transport === 'icmp' && d.provmon.flow.icmp?.type === 8)!;
    expect(icmp.source?.port).toBeUndefined();
    expect(icmp.provmon.flow.tcp_flags).toEqual([]);
  });

  test('deterministic: the same capture gives the same ids', () => {
    const again: FlowReport[] = [];
    processCaptureFile(file, { onFlow: (r) => again.push(r), flushIntervalSec: 0.001 });
    expect(again.map((r) => flowDocument(r, { host }).event.id)).toEqual(flowDocs.map((d) => d.event.id));
  });
});

describe('dns documents', () => {
  test('answers: question, answers, resolved_ip, response code, client -> server', () => {
    const a = dnsDocs.find((d) => d.dns?.question?.name === 'alias.provmon.test' && d.dns.type === 'answer')!;
    expect(a.event.action).toBe('lookup_result');
    expect(a.event.type).toEqual(['protocol']);
    expect(a.event.outcome).toBe('success');
    expect(a.dns!.question).toEqual({ name: 'alias.provmon.test', type: 'A', class: 'IN' });
    expect(a.dns!.answers).toEqual([
      { name: 'alias.provmon.test', type: 'CNAME', class: 'IN', ttl: 0, data: 'web.provmon.test' },
      { name: 'web.provmon.test', type: 'A', class: 'IN', ttl: 0, data: WEB4 },
    ]);
    expect(a.dns!.resolved_ip).toEqual([WEB4]);
    expect(a.dns!.response_code).toBe('NOERROR');
    expect(a.destination).toEqual({ ip: '127.0.53.1', port: 53 });
    expect(a.source!.ip).toBe('127.0.0.1');
    expect(a.network).toMatchObject({ protocol: 'dns', transport: 'udp', type: 'ipv4' });
    expect(a.event.duration).toBeGreaterThan(0);
    expect(a.related.ip).toEqual(['127.0.0.1', '127.0.53.1', WEB4]);
    expect(a.data_stream.namespace).toBe('prod');
    expect(a.dns!.header_flags).toContain('RD');
  });

  test('NXDOMAIN is a failed lookup; the unanswered query is reported as requested', () => {
    const nx = dnsDocs.find((d) => d.dns?.question?.name === 'nothere.provmon.test')!;
    expect(nx.dns!.response_code).toBe('NXDOMAIN');
    expect(nx.event.outcome).toBe('failure');
    expect(nx.dns!.resolved_ip).toBeUndefined();
    const lost = dnsDocs.find((d) => d.dns?.question?.name === 'lost.provmon.test')!;
    expect(lost.event.action).toBe('lookup_requested');
    expect(lost.dns!.type).toBe('query');
    expect(lost.event.outcome).toBe('unknown');
    expect(lost.provmon).toEqual({ dns: { unanswered: true } });
    expect(EVENT_ACTIONS.dns).toContain(lost.event.action as 'lookup_requested');
  });

  test('every record type keeps its presentation data', () => {
    const types = new Map<string, string>();
    for (const d of dnsDocs) for (const a of d.dns?.answers ?? []) types.set(a.type, a.data);
    expect(types.get('TXT')).toBe('"v=spf1 -all" "second string"');
    expect(types.get('SRV')).toBe('0 5 8080 web.provmon.test');
    expect(types.get('MX')).toBe('10 mail.provmon.test');
    expect(types.get('PTR')).toBe('web.provmon.test');
    expect(types.get('AAAA')).toBe('fd00:80::1');
  });
});
