import { describe, expect, test } from 'bun:test';
import { communityIdFromText } from './community-id.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket, PROTO_ICMP, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from './decode.ts';
import { type FlowReport, FlowTable, type FlowTableOptions } from './flows.ts';
import { LINKTYPE_RAW } from './link-types.ts';
import { PacketRecord } from './packet-record.ts';
import { icmp, ipv4, tcp, udp } from './testdata/build-packets.ts';

/** Feed raw IP packets (with times in seconds) through decode + flow table. */
function harness(opts: Partial<FlowTableOptions> = {}) {
  const reports: FlowReport[] = [];
  const table = new FlowTable({ onReport: (r) => reports.push(r), ...opts });
  const out = new DecodedPacket();
  const stats = new DecodeStats();
  const rec = new PacketRecord();
  rec.linkType = LINKTYPE_RAW;
  const feed = (pkt: Uint8Array, t: number) => {
    rec.setBuffer(pkt);
    rec.offset = 0;
    rec.capLen = rec.wireLen = pkt.length;
    rec.tsSec = Math.floor(t);
    rec.tsNsec = Math.round((t - Math.floor(t)) * 1e9);
    decodePacket(rec, out, stats);
    return table.update(out);
  };
  return { table, reports, feed };
}

const C = '10.0.0.1';
const S = '10.0.0.2';
const tcpPkt = (from: 'c' | 's', flags: number, seq: number, payload = 0, ports: [number, number] = [40000, 80]) =>
  ipv4({
    src: from === 'c' ? C : S,
    dst: from === 'c' ? S : C,
    protocol: PROTO_TCP,
    payload: tcp({ sport: from === 'c' ? ports[0] : ports[1], dport: from === 'c' ? ports[1] : ports[0], flags, seq, payload: new Uint8Array(payload) }),
  });

function sum(reports: FlowReport[], pick: (r: FlowReport) => number): number {
  return reports.reduce((n, r) => n + pick(r), 0);
}

describe('TCP lifecycle', () => {
  test('handshake, data both ways, FIN/FIN, last ACK: one flow, Zeek history and state', () => {
    const { table, reports, feed } = harness();
    const script: [('c' | 's'), number, number, number][] = [
      ['c', TCP_SYN, 100, 0],
      ['s', TCP_SYN | TCP_ACK, 500, 0],
      ['c', TCP_ACK, 101, 0],
      ['c', TCP_ACK | TCP_PSH, 101, 50],
      ['s', TCP_ACK, 501, 0],
      ['s', TCP_ACK | TCP_PSH, 501, 1000],
      ['c', TCP_ACK | TCP_FIN, 151, 0],
      ['s', TCP_ACK | TCP_FIN, 1501, 0],
      ['c', TCP_ACK, 152, 0],
    ];
    let t = 1000;
    for (const [who, flags, seq, len] of script) feed(tcpPkt(who, flags, seq, len), (t += 0.01));
    expect(reports.length).toBe(0); // lingering for the last ACK
    table.advance(t + 10);
    expect(reports.length).toBe(1);
    const r = reports[0]!;
    expect(r.final).toBe(true);
    expect(r.endReason).toBe('fin');
    expect([r.srcIp, r.srcPort, r.dstIp, r.dstPort]).toEqual([C, 40000, S, 80]);
    expect(r.delta.src.packets).toBe(5);
    expect(r.delta.dst.packets).toBe(4);
    expect(r.history).toBe('ShADadFf');
    expect(r.state).toBe('SF');
    expect(r.tcpFlags).toEqual(['SYN', 'ACK', 'PSH', 'FIN']);
    expect(r.communityId).toBe(communityIdFromText(C, S, 6, 40000, 80));
    expect(r.transport).toBe('tcp');
    expect(table.size).toBe(0);
  });

  test('SYN-ACK seen first: initiator is its receiver, history starts with ^', () => {
    const { table, reports, feed } = harness();
    feed(tcpPkt('s', TCP_SYN | TCP_ACK, 500, 0), 1);
    feed(tcpPkt('c', TCP_ACK, 101, 0), 1.1);
    table.flushAll();
    expect(reports[0]!.srcIp).toBe(C);
    expect(reports[0]!.dstPort).toBe(80);
    expect(reports[0]!.history).toBe('^hA');
    expect(reports[0]!.endReason).toBe('end_of_capture');
  });

  test('refused connection is REJ, ended by RST', () => {
    const { table, reports, feed } = harness();
    feed(tcpPkt('c', TCP_SYN, 1, 0), 1);
    feed(tcpPkt('s', TCP_RST | TCP_ACK, 0, 0), 1.001);
    table.advance(100);
    expect(reports[0]!.state).toBe('REJ');
    expect(reports[0]!.endReason).toBe('rst');
    expect(reports[0]!.history).toBe('Sr');
  });

  test('retransmission and zero window are in the history', () => {
    const { table, reports, feed } = harness();
    feed(tcpPkt('c', TCP_SYN, 1, 0), 1);
    feed(tcpPkt('s', TCP_SYN | TCP_ACK, 9, 0), 1);
    feed(tcpPkt('c', TCP_ACK | TCP_PSH, 2, 100), 1);
    feed(tcpPkt('c', TCP_ACK | TCP_PSH, 2, 100), 1.2);
    feed(ipv4({ src: S, dst: C, protocol: PROTO_TCP, payload: tcp({ sport: 80, dport: 40000, flags: TCP_ACK, seq: 10, window: 0 }) }), 1.3);
    table.flushAll();
    expect(reports[0]!.history).toBe('ShDTaw');
    expect(reports[0]!.state).toBe('S1');
  });

  test('a new SYN on a closed connection starts a new flow (port reuse)', () => {
    const { table, reports, feed } = harness();
    feed(tcpPkt('c', TCP_SYN, 1, 0), 1);
    feed(tcpPkt('s', TCP_RST | TCP_ACK, 0, 0), 1);
    feed(tcpPkt('c', TCP_SYN, 7777, 0), 2);
    feed(tcpPkt('s', TCP_SYN | TCP_ACK, 3, 0), 2);
    table.flushAll();
    expect(reports.length).toBe(2);
    expect(reports[0]!.endReason).toBe('port_reuse');
    expect(reports[1]!.history).toBe('Sh');
    expect(reports[0]!.flowId).not.toBe(reports[1]!.flowId);
    expect(reports[0]!.communityId).toBe(reports[1]!.communityId);
    expect(table.stats.ended_port_reuse).toBe(1);
  });
});

describe('UDP and ICMP', () => {
  test('DNS-like exchange: SF, Dd; a response seen first is flipped to the client', () => {
    const { table, reports, feed } = harness();
    feed(ipv4({ src: C, dst: S, protocol: PROTO_UDP, payload: udp({ sport: 5000, dport: 53, payload: new Uint8Array(30) }) }), 1);
    feed(ipv4({ src: S, dst: C, protocol: PROTO_UDP, payload: udp({ sport: 53, dport: 5000, payload: new Uint8Array(60) }) }), 1.001);
    feed(ipv4({ src: S, dst: C, protocol: PROTO_UDP, payload: udp({ sport: 53, dport: 6000, payload: new Uint8Array(60) }) }), 1.002);
    table.flushAll();
    expect(reports.length).toBe(2);
    expect(reports[0]!).toMatchObject({ srcIp: C, dstPort: 53, state: 'SF', history: 'Dd' });
    expect(reports[0]!.delta.src.bytes).toBe(20 + 8 + 30);
    expect(reports[1]!).toMatchObject({ srcIp: C, srcPort: 6000, dstPort: 53, state: 'OTH', history: '^d' });
  });

  test('ICMP echo request and reply are one flow with the spec Community ID', () => {
    const { table, reports, feed } = harness();
    feed(ipv4({ src: C, dst: S, protocol: PROTO_ICMP, payload: icmp(8, 0) }), 1);
    feed(ipv4({ src: S, dst: C, protocol: PROTO_ICMP, payload: icmp(0, 0) }), 1.1);
    feed(ipv4({ src: S, dst: C, protocol: PROTO_ICMP, payload: icmp(3, 3) }), 1.2);
    table.flushAll();
    expect(reports.length).toBe(2);
    const echo = reports.find((r) => r.icmpType === 8)!;
    expect(echo.delta.src.packets + echo.delta.dst.packets).toBe(2);
    expect(echo.communityId).toBe(communityIdFromText(C, S, 1, 8, 0));
    expect(echo.transport).toBe('icmp');
    expect(echo.srcPort).toBeUndefined();
    const unreach = reports.find((r) => r.icmpType === 3)!;
    expect(unreach.srcIp).toBe(S);
    expect(unreach.communityId).toBe(communityIdFromText(S, C, 1, 3, 3));
  });

  test('a later IP fragment is counted in the flow of its first fragment', () => {
    const { table, reports, feed } = harness();
    feed(ipv4({ src: C, dst: S, protocol: PROTO_UDP, id: 42, moreFragments: true, payload: udp({ sport: 9, dport: 10, length: 2000, payload: new Uint8Array(1472) }) }), 1);
    feed(ipv4({ src: C, dst: S, protocol: PROTO_UDP, id: 42, fragmentOffset: 185, payload: new Uint8Array(520) }), 1);
    feed(ipv4({ src: C, dst: S, protocol: PROTO_UDP, id: 43, fragmentOffset: 185, payload: new Uint8Array(520) }), 1);
    table.flushAll();
    expect(reports.length).toBe(1);
    expect(reports[0]!.delta.src.packets).toBe(2);
    expect(reports[0]!.delta.src.bytes).toBe(1500 + 540);
    expect(table.stats.fragments_attributed).toBe(1);
    expect(table.stats.fragments_unattributed).toBe(1);
  });
});

describe('time and memory bounds', () => {
  test('inactivity timeout ends a flow; the next packet starts another', () => {
    const { table, reports, feed } = harness({ flowTimeoutSec: 30 });
    const q = () => ipv4({ src: C, dst: S, protocol: PROTO_UDP, payload: udp({ sport: 5000, dport: 9999 }) });
    feed(q(), 100);
    feed(q(), 110);
    feed(q(), 141); // 31 s idle: the first flow times out on this packet's clock
    expect(reports.length).toBe(1);
    expect(reports[0]!.endReason).toBe('timeout');
    expect(reports[0]!.delta.src.packets).toBe(2);
    expect(reports[0]!.endSec - reports[0]!.startSec).toBe(10);
    table.flushAll();
    expect(reports.length).toBe(2);
    expect(table.stats.ended_timeout).toBe(1);
  });

  test('long flow: periodic delta reports that sum to the totals, one final', () => {
    const { table, reports, feed } = harness({ flushIntervalSec: 60, flowTimeoutSec: 300 });
    feed(tcpPkt('c', TCP_SYN, 1, 0), 0);
    feed(tcpPkt('s', TCP_SYN | TCP_ACK, 1, 0), 0.1);
    let seq = 2;
    for (let t = 1; t <= 400; t += 2) {
      feed(tcpPkt('c', TCP_ACK | TCP_PSH, seq, 10), t);
      seq += 10;
      feed(tcpPkt('s', TCP_ACK, 2, 0), t + 0.5);
    }
    table.flushAll('shutdown');
    expect(reports.length).toBeGreaterThanOrEqual(6);
    expect(reports.filter((r) => r.final).length).toBe(1);
    expect(reports.at(-1)!.final).toBe(true);
    expect(reports.at(-1)!.endReason).toBe('shutdown');
    expect(new Set(reports.map((r) => r.flowId)).size).toBe(1);
    expect(reports.map((r) => r.sequence)).toEqual(reports.map((_, i) => i));
    const last = reports.at(-1)!;
    expect(sum(reports, (r) => r.delta.src.packets)).toBe(last.total.src.packets);
    expect(sum(reports, (r) => r.delta.dst.bytes)).toBe(last.total.dst.bytes);
    expect(last.total.src.packets).toBe(201);
    // every interim report covers about one flush interval of traffic
    for (const r of reports.slice(0, -1)) expect(r.delta.src.packets).toBeGreaterThan(20);
  });

  test('max flows: the least recently active flow is reported early and counted', () => {
    const { table, reports, feed } = harness({ maxFlows: 10 });
    for (let i = 0; i < 25; i++) feed(ipv4({ src: C, dst: S, protocol: PROTO_UDP, payload: udp({ sport: 1000 + i, dport: 53 }) }), 1 + i * 0.01);
    expect(table.size).toBe(10);
    expect(reports.length).toBe(15);
    expect(reports.every((r) => r.final && r.endReason === 'evicted')).toBe(true);
    expect(reports.map((r) => r.srcPort)).toEqual(Array.from({ length: 15 }, (_, i) => 1000 + i));
    expect(table.stats.evicted).toBe(15);
    table.flushAll();
    expect(reports.length).toBe(25);
  });

  test('hash collisions and many flows keep exact per-flow counts', () => {
    const { table, reports, feed } = harness({ maxFlows: 100_000 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5000; i++) {
        const a = `10.${(i >> 8) & 255}.${i & 255}.1`;
        feed(ipv4({ src: a, dst: S, protocol: PROTO_TCP, payload: tcp({ sport: 1024 + (i % 50), dport: 443, flags: TCP_ACK }) }), 1 + round);
        feed(ipv4({ src: S, dst: a, protocol: PROTO_TCP, payload: tcp({ sport: 443, dport: 1024 + (i % 50), flags: TCP_ACK }) }), 1 + round);
      }
    }
    table.flushAll();
    expect(reports.length).toBe(5000);
    expect(reports.every((r) => r.total.src.packets === 3 && r.total.dst.packets === 3)).toBe(true);
  });
});
