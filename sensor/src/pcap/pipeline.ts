/**
 * The packet pipeline shared by live capture and offline files: decode -> flow table -> DNS
 * (UDP messages, TCP streams reassembled) -> passive DNS cache, which in turn names flow endpoints.
 * It emits FlowReports and DnsEvents; turning them into ECS documents is ecs.ts's job.
 */
import { type CaptureFileResult, readCaptureFile } from './capture-file.ts';
import { DecodeStats } from './decode-stats.ts';
import { DecodedPacket, decodePacket, FRAG_NONE, PROTO_TCP, PROTO_UDP, TCP_SYN } from './decode.ts';
import { PassiveDnsCache } from './dns-cache.ts';
import { DnsTcpFlowState, DnsTcpReassembler } from './dns-tcp.ts';
import { type DnsMessage, DnsStats, parseDns } from './dns.ts';
import { type Flow, type FlowEndReason, type FlowReport, FlowTable } from './flows.ts';
import { LINKTYPE_RAW } from './link-types.ts';
import { PacketRecord } from './packet-record.ts';
import { IpReassembler, type ReassemblyOptions, type Reassembled } from './reassembly.ts';

/** One DNS message seen on the wire, oriented client -> server whichever way it travelled. */
export interface DnsEvent {
  message: DnsMessage;
  tsSec: number;
  tsNsec: number;
  transport: 'udp' | 'tcp';
  ipVersion: 4 | 6;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  communityId: string;
  /** responses only: nanoseconds since the matching query, when the query was seen */
  durationNs?: number;
  /** a query reported because no response came within dnsQueryTimeoutSec (or before the end) */
  unanswered?: boolean;
}

/**
 * Which DNS queries become events. Responses always do (they repeat the question).
 * - "unanswered" (default): a query is reported only when no response follows within
 *   dnsQueryTimeoutSec: lookups to dead or blackholed resolvers, and tunnels that never get
 *   replies, stay visible without doubling the volume.
 * - "all": every query as it is seen. - "none": responses only.
 */
export type DnsQueryEvents = 'unanswered' | 'all' | 'none';

export interface PcapPipelineOptions {
  flowTimeoutSec?: number;
  flushIntervalSec?: number;
  maxFlows?: number;
  closeLingerSec?: number;
  communityIdSeed?: number;
  /** dns_cache_ttl: cap on how long an answer names an address */
  dnsCacheTtlSec?: number;
  dnsCacheMaxEntries?: number;
  /** ports whose UDP/TCP payload is parsed as DNS (default 53, 5353 mDNS, 5355 LLMNR) */
  dnsPorts?: number[];
  /** bytes all DNS-over-TCP reassembly buffers may hold together */
  dnsTcpBudgetBytes?: number;
  dnsQueryEvents?: DnsQueryEvents;
  /** seconds after which a query with no response counts as unanswered (default 5) */
  dnsQueryTimeoutSec?: number;
  onFlow?: (report: FlowReport) => void;
  onDns?: (event: DnsEvent) => void;
  /** IP fragment reassembly bounds (reassembly.ts); false: fragments are accounted one by one, never decoded whole */
  reassembly?: ReassemblyOptions | false;
}

/** Counters that do not belong to one stage. */
export class PipelineCounters {
  /** DNS-port UDP payload cut by the snap length or fragmented: not parsed */
  dns_unparsed = 0;
  /** UDP/TCP DNS payloads that did not parse at all */
  dns_not_dns = 0;
  /** queries that never got a response */
  dns_unanswered = 0;
}

const MAX_PENDING_QUERIES = 10_000;

interface PendingQuery {
  key: number;
  ev: DnsEvent;
  atNs: number;
  at: number;
  flow: Flow;
}

export class PcapPipeline {
  readonly decodeStats = new DecodeStats();
  readonly dnsStats = new DnsStats();
  readonly counters = new PipelineCounters();
  readonly dnsCache: PassiveDnsCache;
  readonly dnsTcp: DnsTcpReassembler;
  readonly flows: FlowTable;
  readonly reassembler: IpReassembler | undefined;
  /** decoding of reassembled datagrams, apart from the frames' own counts (their frames are counted already) */
  readonly reassembledStats = new DecodeStats();
  private readonly pkt = new DecodedPacket();
  /** a reassembled datagram (or a given-up first fragment): its own packet, as it can arrive in the middle of another */
  private readonly wholePkt = new DecodedPacket();
  private readonly wholeRec = new PacketRecord();
  /** the packet being processed (DNS events read its time and ports) */
  private cur: DecodedPacket = this.pkt;
  private readonly dnsPort = new Uint8Array(65536);
  private readonly onDns: ((e: DnsEvent) => void) | undefined;
  /** queries awaiting a response, by flow hash and DNS id, oldest first (bounded) */
  private readonly pending = new Map<number, PendingQuery>();
  private readonly queryEvents: DnsQueryEvents;
  private readonly queryTimeout: number;
  private nextQuerySweep = 0;
  // context for the TCP message callback (kept on the instance so no closure is made per segment)
  private curFlow: Flow | null = null;
  private readonly onTcpMessage = (buf: Uint8Array, off: number, len: number): void => this.dnsMessage(buf, off, len, 'tcp', this.curFlow!);

  constructor(o: PcapPipelineOptions = {}) {
    this.dnsCache = new PassiveDnsCache({ maxTtlSec: o.dnsCacheTtlSec ?? 300, maxEntries: o.dnsCacheMaxEntries ?? 100_000 });
    this.dnsTcp = new DnsTcpReassembler(o.dnsTcpBudgetBytes);
    for (const port of o.dnsPorts ?? [53, 5353, 5355]) this.dnsPort[port] = 1;
    this.onDns = o.onDns;
    this.queryEvents = o.dnsQueryEvents ?? 'unanswered';
    this.queryTimeout = o.dnsQueryTimeoutSec ?? 5;
    if (o.reassembly !== false) this.reassembler = new IpReassembler(o.reassembly ?? {}, (first) => this.processWhole(first));
    this.wholeRec.linkType = LINKTYPE_RAW;
    const cache = this.dnsCache;
    this.flows = new FlowTable({
      onReport: o.onFlow ?? (() => {}),
      lookupDomain: (ip, at) => cache.lookup(ip, at),
      lookupEpoch: () => cache.stats.inserts,
      onFlowEnd: (f) => {
        if (f.app instanceof DnsTcpFlowState) this.dnsTcp.release(f.app);
        f.app = undefined;
      },
      ...(o.flowTimeoutSec !== undefined ? { flowTimeoutSec: o.flowTimeoutSec } : {}),
      ...(o.flushIntervalSec !== undefined ? { flushIntervalSec: o.flushIntervalSec } : {}),
      ...(o.maxFlows !== undefined ? { maxFlows: o.maxFlows } : {}),
      ...(o.closeLingerSec !== undefined ? { closeLingerSec: o.closeLingerSec } : {}),
      ...(o.communityIdSeed !== undefined ? { communityIdSeed: o.communityIdSeed } : {}),
    });
  }

  /** Process one captured frame (the hot path). Bound, so it can be passed as a reader callback. */
  readonly handle = (rec: PacketRecord): void => {
    const p = this.pkt;
    if (!decodePacket(rec, p, this.decodeStats)) return;
    if (p.fragment !== FRAG_NONE && this.reassembler !== undefined) {
      // held until its datagram completes (then decoded whole) or is given up (then its first fragment is)
      const whole = this.reassembler.add(p);
      if (whole !== null) this.processWhole(whole);
      return;
    }
    this.process(p);
  };

  /** A reassembled datagram, or a given-up first fragment, standing for all the frames it came in. */
  private processWhole(whole: Reassembled): void {
    const rec = this.wholeRec;
    rec.setBuffer(whole.packet);
    rec.offset = 0;
    rec.capLen = rec.wireLen = whole.packet.length;
    rec.tsSec = whole.tsSec;
    rec.tsNsec = whole.tsNsec;
    const p = this.wholePkt;
    if (!decodePacket(rec, p, this.reassembledStats)) return;
    p.frames = whole.frames;
    p.wireLen = whole.wireBytes;
    this.process(p);
  }

  private process(p: DecodedPacket): void {
    this.cur = p;
    const flow = this.flows.update(p);
    if (flow === null) return;
    const proto = p.protocol;
    if (proto === PROTO_UDP) {
      if (p.payloadLength > 0 && (this.dnsPort[p.srcPort]! | this.dnsPort[p.dstPort]!) !== 0) {
        if (p.fragment !== FRAG_NONE || p.payloadCaptured < p.payloadLength) this.counters.dns_unparsed++;
        else this.dnsMessage(p.data, p.payloadOffset, p.payloadLength, 'udp', flow);
      }
    } else if (proto === PROTO_TCP && (this.dnsPort[p.srcPort]! | this.dnsPort[p.dstPort]!) !== 0) {
      const syn = (p.tcpFlags & TCP_SYN) !== 0;
      if (p.payloadLength === 0 && !syn) return;
      let state = flow.app as DnsTcpFlowState | undefined;
      if (state === undefined) {
        state = new DnsTcpFlowState();
        flow.app = state;
      }
      const stream = this.flows.lastFromInitiator ? state.toResponder : state.toInitiator;
      this.curFlow = flow;
      this.dnsTcp.segment(stream, p.tcpSeq, syn, p.data, p.payloadOffset, p.payloadLength, p.payloadCaptured, this.onTcpMessage);
    }
  }

  private dnsMessage(buf: Uint8Array, off: number, len: number, transport: 'udp' | 'tcp', flow: Flow): void {
    const m = parseDns(buf, off, len, this.dnsStats);
    if (m === null) {
      this.counters.dns_not_dns++;
      return;
    }
    const p = this.cur;
    // the flow already holds both addresses as text; the packet's direction picks the order
    const forward = this.flows.lastFromInitiator;
    const srcIp = forward ? flow.srcIp : flow.dstIp;
    const dstIp = forward ? flow.dstIp : flow.srcIp;
    // a query travels client -> server, a response server -> client
    const ev: DnsEvent = m.response
      ? { message: m, tsSec: p.tsSec, tsNsec: p.tsNsec, transport, ipVersion: p.ipVersion as 4 | 6, clientIp: dstIp, clientPort: p.dstPort, serverIp: srcIp, serverPort: p.srcPort, communityId: flow.communityId }
      : { message: m, tsSec: p.tsSec, tsNsec: p.tsNsec, transport, ipVersion: p.ipVersion as 4 | 6, clientIp: srcIp, clientPort: p.srcPort, serverIp: dstIp, serverPort: p.dstPort, communityId: flow.communityId };
    // the flow is the (transport, client, server) tuple: its hash and the DNS id name the transaction
    const key = flow.hash * 65536 + m.id;
    const nowNs = p.tsSec * 1e9 + p.tsNsec; // float ns: exact enough for durations
    const now = p.tsSec + p.tsNsec * 1e-9;
    if (!m.response) {
      if (this.pending.size >= MAX_PENDING_QUERIES) this.expireQueries(Infinity, 1);
      // a repeated id from the same socket replaces the older query
      this.pending.delete(key);
      this.pending.set(key, { key, ev, atNs: nowNs, at: now, flow });
      if (this.queryEvents === 'all') this.onDns?.(ev);
    } else {
      const asked = this.pending.get(key);
      if (asked !== undefined && asked.flow === flow) {
        this.pending.delete(key);
        ev.durationNs = Math.max(0, Math.round(nowNs - asked.atNs));
      }
      if (m.rcode === 0) this.learn(m, now);
      this.onDns?.(ev);
    }
    if (now >= this.nextQuerySweep) {
      this.nextQuerySweep = now + 1;
      this.expireQueries(now - this.queryTimeout, Infinity);
    }
  }

  /** Report (per dnsQueryEvents) and forget queries asked before `before`, at most `max` of them. */
  private expireQueries(before: number, max: number): void {
    let n = 0;
    for (const q of this.pending.values()) {
      if (q.at > before || n >= max) break;
      this.pending.delete(q.key);
      n++;
      if (this.queryEvents === 'unanswered') {
        q.ev.unanswered = true;
        this.counters.dns_unanswered++;
        this.onDns?.(q.ev);
      }
    }
  }

  /** Feed A/AAAA answers to the passive DNS cache under the name the client asked for. */
  private learn(m: DnsMessage, at: number): void {
    const asked = m.questions[0]?.name;
    for (const r of m.answers) {
      if (r.type === 1 || r.type === 28) this.dnsCache.add(r.data, asked ?? r.name, r.ttl, at);
    }
  }

  /** Time-driven work when no packet arrives (live capture): timeouts and periodic reports. */
  tick(nowSec: number): void {
    this.reassembler?.expire(nowSec);
    this.flows.advance(nowSec);
    this.expireQueries(nowSec - this.queryTimeout, Infinity);
  }

  /** Report every remaining flow as final and every pending query as unanswered. */
  finish(reason: FlowEndReason = 'end_of_capture'): void {
    this.reassembler?.expire(Infinity);
    this.expireQueries(Infinity, Infinity);
    this.flows.flushAll(reason);
  }

  /** Everything counted so far, for logs and the sensor's stats document. */
  snapshot() {
    return {
      traffic: { ...this.decodeStats.traffic },
      malformed: this.decodeStats.malformed.nonZero(),
      malformed_total: this.decodeStats.malformed.total(),
      flows: { active: this.flows.size, ...this.flows.stats },
      dns: { ...this.dnsStats, malformed_total: this.dnsStats.malformed(), ...this.counters },
      dns_tcp: { ...this.dnsTcp.stats, held_bytes: this.dnsTcp.heldBytes },
      dns_cache: { size: this.dnsCache.size, ...this.dnsCache.stats },
      ...(this.reassembler
        ? {
            reassembly: { pending: this.reassembler.size, held_bytes: this.reassembler.held, ...this.reassembler.stats },
            reassembled_malformed: this.reassembledStats.malformed.nonZero(),
          }
        : {}),
    };
  }
}

/** Read a capture file through the whole pipeline and flush every flow at the end. */
export function processCaptureFile(path: string, options: PcapPipelineOptions = {}): { capture: CaptureFileResult; pipeline: PcapPipeline } {
  const pipeline = new PcapPipeline(options);
  const capture = readCaptureFile(path, pipeline.handle);
  pipeline.finish('end_of_capture');
  return { capture, pipeline };
}
