/**
 * ECS documents for the `flow` and `dns` datasets, built from the pipeline's FlowReports and
 * DnsEvents. docs/pcap.md describes every field; the shared type is kibana-plugin/common/ecs.ts.
 *
 * Flow reports carry deltas (see flows.ts): source/destination/network bytes and packets are the
 * traffic since the previous report of the same flow, so sums over any set of documents are exact;
 * provmon.flow.total holds the running totals and provmon.flow.final marks the last report.
 */
import { createHash } from 'node:crypto';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { DNS_OPCODE_NAMES, dnsClassName, dnsHeaderFlags, dnsRcodeName, dnsTypeName } from './dns.ts';
import type { FlowReport } from './flows.ts';
import type { CaptureStats } from './libpcap.ts';
import type { DnsEvent } from './pipeline.ts';

export interface EcsContext {
  host: EcsEvent['host'];
  /** data stream namespace (default "default") */
  namespace?: string;
  /** live capture drop counters at the time of the report, kept with the flows */
  capture?: CaptureStats;
}

/** Fields this module adds beyond the shared EcsEvent type (all ECS or under provmon.*). */
export interface FlowDocumentExtras {
  network: { vlan?: { id: string } };
  related: { ip: string[]; hosts?: string[] };
  provmon: {
    flow: {
      /** groups the reports of one flow */
      id: string;
      /** 0, 1, 2… per flow */
      sequence: number;
      end_reason?: string;
      /** running totals since the flow began */
      total: { bytes: number; packets: number; source: { bytes: number; packets: number }; destination: { bytes: number; packets: number } };
      icmp?: { type: number; code: number };
    };
    /** capture drops since the capture opened (live only) */
    pcap?: { received: number; dropped: number; interface_dropped: number };
  };
}

export type FlowDocument = EcsEvent & FlowDocumentExtras;

export interface DnsDocumentExtras {
  related: { ip: string[]; hosts: string[] };
  dns: { op_code?: string; question?: { class?: string } };
  provmon?: { dns?: { unanswered?: boolean } };
}

export type DnsDocument = EcsEvent & DnsDocumentExtras;

/** ISO-8601 with nanoseconds: Elasticsearch `date` fields accept it (and keep milliseconds). */
export function isoTime(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${String(nsec).padStart(9, '0')}Z`;
}

function durationNs(startSec: number, startNsec: number, endSec: number, endNsec: number): number {
  return (endSec - startSec) * 1e9 + (endNsec - startNsec);
}

function docId(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, 22);
}

export function flowDocument(r: FlowReport, ctx: EcsContext): FlowDocument {
  const namespace = ctx.namespace ?? 'default';
  const src = r.delta.src;
  const dst = r.delta.dst;
  const doc: FlowDocument = {
    '@timestamp': isoTime(r.endSec, r.endNsec),
    event: {
      kind: 'event',
      category: ['network'],
      type: r.final ? ['connection', 'end'] : ['connection'],
      action: 'network_flow',
      dataset: 'provmon.flow',
      module: 'provmon',
      id: docId(ctx.host.id, r.flowId, r.sequence),
      start: isoTime(r.startSec, r.startNsec),
      end: isoTime(r.endSec, r.endNsec),
      duration: durationNs(r.startSec, r.startNsec, r.endSec, r.endNsec),
    },
    host: ctx.host,
    data_stream: { type: 'logs', dataset: 'provmon.flow', namespace },
    source: { ip: r.srcIp, bytes: src.bytes, packets: src.packets },
    destination: { ip: r.dstIp, bytes: dst.bytes, packets: dst.packets },
    network: {
      transport: r.transport,
      type: r.ipVersion === 4 ? 'ipv4' : 'ipv6',
      iana_number: String(r.protocol),
      bytes: src.bytes + dst.bytes,
      packets: src.packets + dst.packets,
      community_id: r.communityId,
    },
    related: { ip: r.srcIp === r.dstIp ? [r.srcIp] : [r.srcIp, r.dstIp] },
    provmon: {
      flow: {
        final: r.final,
        state: r.state,
        history: r.history,
        tcp_flags: r.tcpFlags,
        dns_resolved: r.dstDomain !== undefined || r.srcDomain !== undefined,
        id: r.flowId,
        sequence: r.sequence,
        total: {
          // Both directions in one field: Elasticsearch can then sort flows by size without a script.
          bytes: r.total.src.bytes + r.total.dst.bytes,
          packets: r.total.src.packets + r.total.dst.packets,
          source: { bytes: r.total.src.bytes, packets: r.total.src.packets },
          destination: { bytes: r.total.dst.bytes, packets: r.total.dst.packets },
        },
      },
    },
  };
  if (r.srcPort !== undefined) doc.source!.port = r.srcPort;
  if (r.dstPort !== undefined) doc.destination!.port = r.dstPort;
  if (r.srcDomain !== undefined) doc.source!.domain = r.srcDomain;
  if (r.dstDomain !== undefined) doc.destination!.domain = r.dstDomain;
  const hosts = [r.srcDomain, r.dstDomain].filter((h): h is string => h !== undefined);
  if (hosts.length) doc.related.hosts = [...new Set(hosts)];
  if (r.vlanId !== undefined) doc.network.vlan = { id: String(r.vlanId) };
  if (r.endReason !== undefined) doc.provmon.flow.end_reason = r.endReason;
  if (r.icmpType !== undefined) doc.provmon.flow.icmp = { type: r.icmpType, code: r.icmpCode ?? 0 };
  if (ctx.capture) doc.provmon.pcap = { received: ctx.capture.received, dropped: ctx.capture.dropped, interface_dropped: ctx.capture.interfaceDropped };
  return doc;
}

export function dnsDocument(e: DnsEvent, ctx: EcsContext): DnsDocument {
  const namespace = ctx.namespace ?? 'default';
  const m = e.message;
  const q = m.questions[0];
  const resolved = m.answers.filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
  const doc: DnsDocument = {
    '@timestamp': isoTime(e.tsSec, e.tsNsec),
    event: {
      kind: 'event',
      category: ['network'],
      type: ['protocol'],
      action: m.response ? 'lookup_result' : 'lookup_requested',
      dataset: 'provmon.dns',
      module: 'provmon',
      id: docId(ctx.host.id, e.tsSec, e.tsNsec, e.transport, e.clientIp, e.clientPort, e.serverIp, e.serverPort, m.id, m.response ? 'r' : 'q'),
    },
    host: ctx.host,
    data_stream: { type: 'logs', dataset: 'provmon.dns', namespace },
    source: { ip: e.clientIp, port: e.clientPort },
    destination: { ip: e.serverIp, port: e.serverPort },
    network: {
      transport: e.transport,
      type: e.ipVersion === 4 ? 'ipv4' : 'ipv6',
      iana_number: e.transport === 'udp' ? '17' : '6',
      protocol: 'dns',
      community_id: e.communityId,
    },
    dns: {
      type: m.response ? 'answer' : 'query',
      id: String(m.id),
      op_code: opcodeName(m.opcode),
      header_flags: dnsHeaderFlags(m),
    },
    related: { ip: [...new Set([e.clientIp, e.serverIp, ...resolved])], hosts: [] },
  };
  if (q) {
    doc.dns.question = { name: q.name, type: dnsTypeName(q.type), class: dnsClassName(q.class) };
    doc.related.hosts.push(q.name);
  }
  if (m.response) {
    doc.event.outcome = m.rcode === 0 ? 'success' : 'failure';
    doc.dns.response_code = dnsRcodeName(m.rcode);
    doc.dns.answers = m.answers.map((a) => ({ name: a.name, type: dnsTypeName(a.type), class: dnsClassName(a.class), ttl: a.ttl, data: a.data }));
    if (resolved.length) doc.dns.resolved_ip = resolved;
    if (e.durationNs !== undefined) doc.event.duration = e.durationNs;
  } else if (e.unanswered) {
    doc.event.outcome = 'unknown';
    doc.provmon = { dns: { unanswered: true } };
  }
  return doc;
}

function opcodeName(op: number): string {
  return DNS_OPCODE_NAMES[op] ?? String(op);
}
