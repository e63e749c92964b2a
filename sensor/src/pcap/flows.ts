/**
 * Bidirectional flow table keyed by the 5-tuple (transport ports, or ICMP type/code mapped the way
 * Community ID maps them). Per-packet work is a hash, a short bucket walk comparing numbers, counter
 * updates and two linked-list pointer moves: no allocation for a packet of a known flow.
 *
 * Reporting (docs/pcap.md has the full contract):
 * - A flow is reported when it ends (TCP: both FINs or a RST, then a short linger that absorbs the
 *   last ACK; any flow: `flowTimeoutSec` of inactivity), when it is evicted to keep `maxFlows`, and
 *   every `flushIntervalSec` while it stays active with new traffic.
 * - Every report carries DELTAS (the packets and bytes since the previous report of the same flow)
 *   plus `final` on the last one, so summing any set of reports in Elasticsearch gives exact traffic
 *   and a date histogram puts bytes in the interval they were seen. Cumulative totals ride along
 *   under `total` for per-connection views.
 * The clock is packet time, so an offline file yields the same reports as the live capture did.
 */
import { communityIdFromWords, icmpPorts, lastCommunityIdDigest } from './community-id.ts';
import {
  type DecodedPacket,
  FRAG_FIRST,
  FRAG_LATER,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_SCTP,
  PROTO_TCP,
  PROTO_UDP,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_NS,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
} from './decode.ts';
import { formatIp } from './ip-address.ts';

export type FlowEndReason = 'fin' | 'rst' | 'timeout' | 'evicted' | 'port_reuse' | 'end_of_capture' | 'shutdown';

/** Per-direction history letters (Zeek conn.log conventions; initiator upper case, responder lower). */
const H_SYN = 1; // S: SYN without ACK
const H_SYNACK = 2; // H: SYN+ACK
const H_ACK = 4; // A: pure ACK
const H_DATA = 8; // D: payload
const H_FIN = 16; // F
const H_RST = 32; // R
const H_RETRANS = 64; // T: payload re-sent below the highest sequence seen
const H_ZEROWIN = 128; // W: zero window advertised
const H_MULTI = 256; // Q: SYN together with FIN or RST
const LETTER_BITS = [H_SYN, H_SYNACK, H_ACK, H_DATA, H_FIN, H_RST, H_RETRANS, H_ZEROWIN, H_MULTI];
const UPPER = ['S', 'H', 'A', 'D', 'F', 'R', 'T', 'W', 'Q'];
const LOWER = UPPER.map((c) => c.toLowerCase());

const FLAG_NAMES: [number, string][] = [
  [TCP_SYN, 'SYN'],
  [TCP_ACK, 'ACK'],
  [TCP_PSH, 'PSH'],
  [TCP_FIN, 'FIN'],
  [TCP_RST, 'RST'],
  [TCP_URG, 'URG'],
  [TCP_ECE, 'ECE'],
  [TCP_CWR, 'CWR'],
  [TCP_NS, 'NS'],
];

export function tcpFlagNames(mask: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (mask & bit) out.push(name);
  return out;
}

const TRANSPORT_NAMES: Record<number, string> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp', 89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp' };

/** ECS network.transport: lowercase IANA keyword, the number as text for unnamed protocols */
export function transportName(protocol: number): string {
  return TRANSPORT_NAMES[protocol] ?? String(protocol);
}

export class Flow {
  hash = 0;
  nextInBucket: Flow | null = null;
  prev: Flow | null = null;
  next: Flow | null = null;
  /** which list holds the flow: 0 active, 1 closed (lingering) */
  list = 0;

  ipVersion = 4;
  protocol = 0;
  // initiator ("source") and responder ("destination") as 4 big-endian words each
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  /** transport ports, or ICMP port equivalents */
  sport = 0;
  dport = 0;
  srcIp: string;
  dstIp: string;
  /** ICMP type/code of the first packet (for documents); -1 otherwise */
  icmpType = -1;
  icmpCode = -1;
  vlanId = -1;

  firstSec = 0;
  firstNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  /** packet time (float seconds) of the last packet and of the last report */
  lastSeen = 0;
  lastReport = 0;
  closedAt = 0;

  srcPackets = 0;
  srcBytes = 0;
  dstPackets = 0;
  dstBytes = 0;
  repSrcPackets = 0;
  repSrcBytes = 0;
  repDstPackets = 0;
  repDstBytes = 0;
  reports = 0;

  srcFlags = 0;
  dstFlags = 0;
  srcHistory = 0;
  dstHistory = 0;
  history = '';
  /** next expected sequence number per direction (TCP), -1 before the first segment */
  srcNextSeq = -1;
  dstNextSeq = -1;
  /** sequence number of the initiator's SYN, -1 if none was seen */
  isn = -1;
  closed = false;

  communityIdValue = '';
  flowIdValue = '';
  srcDomain: string | undefined = undefined;
  dstDomain: string | undefined = undefined;
  /** lookupEpoch and packet time of the flow's last domain lookup */
  domainEpoch = -1;
  domainLookedUp = 0;
  /** per-flow state owned by protocol parsers (DNS over TCP reassembly) */
  app: unknown = undefined;

  constructor(srcIp: string, dstIp: string) {
    this.srcIp = srcIp;
    this.dstIp = dstIp;
  }

  get communityId(): string {
    if (this.communityIdValue === '') this.communityIdValue = flowCommunityId(this, 0);
    return this.communityIdValue;
  }
}

function flowCommunityId(f: Flow, seed: number): string {
  const icmp = f.protocol === PROTO_ICMP || f.protocol === PROTO_ICMPV6;
  // Community ID maps ICMP itself: hand it the raw type/code of the initiator's message
  return communityIdFromWords(f.ipVersion === 4, f.s0, f.s1, f.s2, f.s3, f.d0, f.d1, f.d2, f.d3, f.protocol, icmp ? f.icmpType : f.sport, icmp ? f.icmpCode : f.dport, seed);
}

export interface FlowCounters {
  packets: number;
  bytes: number;
}

/** One report of one flow, as handed to onReport. A snapshot: the flow keeps changing afterwards. */
export interface FlowReport {
  /** stable id of this flow record: groups its reports (Community ID alone repeats when ports are reused) */
  flowId: string;
  communityId: string;
  /** 0 for the first report of the flow, then 1, 2… */
  sequence: number;
  final: boolean;
  endReason?: FlowEndReason;
  ipVersion: 4 | 6;
  protocol: number;
  transport: string;
  srcIp: string;
  dstIp: string;
  /** absent for protocols without ports */
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
  vlanId?: number;
  /** first and last packet of the flow (whole flow, not just this report) */
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
  /** since the previous report of this flow */
  delta: { src: FlowCounters; dst: FlowCounters };
  /** since the flow began */
  total: { src: FlowCounters; dst: FlowCounters };
  tcpFlags: string[];
  history: string;
  /** Zeek conn_state (S0, S1, SF, REJ, RSTO, …; OTH for mid-stream) */
  state: string;
  srcDomain?: string;
  dstDomain?: string;
}

export interface FlowTableOptions {
  /** seconds of inactivity after which a flow ends (seed default 300) */
  flowTimeoutSec?: number;
  /** seconds between reports of a long-lived flow (seed default 60) */
  flushIntervalSec?: number;
  /** flows kept in memory; beyond it the least recently active flow is reported and dropped */
  maxFlows?: number;
  /** seconds a TCP flow lingers after FIN/FIN or RST to absorb the last ACK and retransmissions */
  closeLingerSec?: number;
  communityIdSeed?: number;
  onReport: (report: FlowReport) => void;
  /** passive DNS lookup: name for an address at a time (seconds) */
  lookupDomain?: (ip: string, atSec: number) => string | undefined;
  /** a number that changes whenever the DNS cache learns something: lets a flow skip repeat lookups */
  lookupEpoch?: () => number;
  /** a flow left the table (its app state can be released) */
  onFlowEnd?: (flow: Flow) => void;
}

export class FlowTableStats {
  flows_created = 0;
  reports = 0;
  final_reports = 0;
  ended_fin = 0;
  ended_rst = 0;
  ended_timeout = 0;
  /** flows reported early and dropped because the table was full */
  evicted = 0;
  ended_port_reuse = 0;
  /** IP packets that could not be put in a flow (transport header missing) */
  packets_without_flow = 0;
  /** later IP fragments added to the flow of their first fragment */
  fragments_attributed = 0;
  /** later IP fragments whose first fragment was never seen */
  fragments_unattributed = 0;
}

class FlowList {
  head: Flow | null = null;
  tail: Flow | null = null;
  size = 0;

  push(f: Flow): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail) this.tail.next = f;
    else this.head = f;
    this.tail = f;
    this.size++;
  }

  remove(f: Flow): void {
    if (f.prev) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = f.next = null;
    this.size--;
  }

  touch(f: Flow): void {
    if (this.tail === f) return;
    this.remove(f);
    this.push(f);
  }
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x5bd1e995);
  return h ^ (h >>> 15);
}

const MAX_FRAGMENT_TRACK = 4096;

export class FlowTable {
  readonly stats = new FlowTableStats();
  private readonly buckets: (Flow | null)[];
  private readonly mask: number;
  private readonly active = new FlowList();
  private readonly closing = new FlowList();
  private readonly timeout: number;
  private readonly flushInterval: number;
  private readonly maxFlows: number;
  private readonly linger: number;
  /** how often (packet time) timeouts and periodic reports are checked */
  private readonly housekeepingEvery: number;
  private readonly seed: number;
  private readonly onReport: (r: FlowReport) => void;
  private readonly lookupDomain: ((ip: string, atSec: number) => string | undefined) | undefined;
  private readonly lookupEpoch: () => number;
  private readonly onFlowEnd: ((flow: Flow) => void) | undefined;
  /** packet clock: the newest packet time seen (never goes backwards) */
  private now = 0;
  private nextHousekeeping = 0;
  private nextFlushSweep = 0;
  /** first-fragment flows by (addresses, protocol, IP id), to account later fragments */
  private readonly fragments = new Map<string, Flow>();
  private readonly ipv4Text = new Map<number, string>();

  /** set by update(): whether the last packet went initiator -> responder */
  lastFromInitiator = true;

  constructor(o: FlowTableOptions) {
    this.timeout = o.flowTimeoutSec ?? 300;
    this.flushInterval = o.flushIntervalSec ?? 60;
    this.maxFlows = Math.max(1, o.maxFlows ?? 100_000);
    this.linger = o.closeLingerSec ?? 5;
    // once a second, or finer when the configured intervals are shorter than that
    this.housekeepingEvery = Math.min(1, this.flushInterval / 10, this.timeout / 10, this.linger);
    this.seed = o.communityIdSeed ?? 0;
    this.onReport = o.onReport;
    this.lookupDomain = o.lookupDomain;
    this.lookupEpoch = o.lookupEpoch ?? (() => -2);
    this.onFlowEnd = o.onFlowEnd;
    let size = 1024;
    while (size < this.maxFlows * 2) size *= 2;
    this.buckets = new Array<Flow | null>(size).fill(null);
    this.mask = size - 1;
  }

  get size(): number {
    return this.active.size + this.closing.size;
  }

  /**
   * Account one decoded IP packet. Returns its flow (null when it has no transport header to key
   * on); `lastFromInitiator` tells the direction.
   */
  update(p: DecodedPacket): Flow | null {
    const t = p.tsSec + p.tsNsec * 1e-9;
    if (t > this.now) {
      this.now = t;
      if (t >= this.nextHousekeeping) this.housekeeping();
    }
    if (!p.hasTransport) {
      if (p.fragment === FRAG_LATER) return this.addFragment(p, t);
      this.stats.packets_without_flow++;
      return null;
    }

    const proto = p.protocol;
    let sport = p.srcPort;
    let dport = p.dstPort;
    if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
      const m = icmpPorts(proto, p.icmpType, p.icmpCode);
      sport = m.sport;
      dport = m.dport;
    }
    // symmetric hash: order the two endpoints first
    let lowFirst = true;
    if (p.src0 !== p.dst0) lowFirst = p.src0 < p.dst0;
    else if (p.src1 !== p.dst1) lowFirst = p.src1 < p.dst1;
    else if (p.src2 !== p.dst2) lowFirst = p.src2 < p.dst2;
    else if (p.src3 !== p.dst3) lowFirst = p.src3 < p.dst3;
    else lowFirst = sport <= dport;
    let h = mix(0x9e3779b1, proto);
    if (lowFirst) {
      h = mix(mix(mix(mix(h, p.src0), p.src1), p.src2), p.src3);
      h = mix(mix(mix(mix(h, p.dst0), p.dst1), p.dst2), p.dst3);
      h = mix(h, (sport << 16) | dport);
    } else {
      h = mix(mix(mix(mix(h, p.dst0), p.dst1), p.dst2), p.dst3);
      h = mix(mix(mix(mix(h, p.src0), p.src1), p.src2), p.src3);
      h = mix(h, (dport << 16) | sport);
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;

    let f = this.buckets[h & this.mask] as Flow | null;
    let forward = true;
    while (f !== null) {
      if (f.hash === h && f.protocol === proto) {
        if (f.sport === sport && f.dport === dport && f.s0 === p.src0 && f.d0 === p.dst0 && f.s1 === p.src1 && f.s2 === p.src2 && f.s3 === p.src3 && f.d1 === p.dst1 && f.d2 === p.dst2 && f.d3 === p.dst3) {
          forward = true;
          break;
        }
        if (f.sport === dport && f.dport === sport && f.s0 === p.dst0 && f.d0 === p.src0 && f.s1 === p.dst1 && f.s2 === p.dst2 && f.s3 === p.dst3 && f.d1 === p.src1 && f.d2 === p.src2 && f.d3 === p.src3) {
          forward = false;
          break;
        }
      }
      f = f.nextInBucket;
    }

    const flags = p.tcpFlags;
    if (f !== null && f.closed && proto === PROTO_TCP && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && p.tcpSeq !== f.isn) {
      // a fresh SYN (new initial sequence number) on a finished connection: the port pair is being
      // reused. The same ISN is a retransmitted or duplicated SYN and stays in the old flow.
      this.stats.ended_port_reuse++;
      this.finish(f, 'port_reuse');
      f = null;
    }
    if (f === null) {
      f = this.create(p, h, sport, dport, t);
      forward = this.lastFromInitiator;
    }

    this.lastFromInitiator = forward;
    this.account(f, p, forward, t);
    if (p.fragment === FRAG_FIRST) this.rememberFragment(p, f);
    return f;
  }

  private create(p: DecodedPacket, h: number, sport: number, dport: number, t: number): Flow {
    if (this.size >= this.maxFlows) this.evictOne();
    const proto = p.protocol;
    const flags = p.tcpFlags;
    // Who initiated? The SYN sender; for a SYN-ACK seen first, its receiver; otherwise the first
    // sender, unless it looks like a server answering (well-known source port to an ephemeral one)
    // or an ICMP reply. A flipped guess is marked "^" in the history, as Zeek does.
    let flip = false;
    if (proto === PROTO_TCP) {
      if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) flip = true;
      else if ((flags & TCP_SYN) === 0) flip = sport < 1024 && dport >= 1024;
    } else if (proto === PROTO_UDP || proto === PROTO_SCTP) {
      flip = sport < 1024 && dport >= 1024;
    } else if (proto === PROTO_ICMP) {
      flip = p.icmpType === 0 || p.icmpType === 14 || p.icmpType === 16 || p.icmpType === 18;
    } else if (proto === PROTO_ICMPV6) {
      flip = p.icmpType === 129 || p.icmpType === 131 || p.icmpType === 136 || p.icmpType === 140 || p.icmpType === 145;
    }
    const aText = this.ipText(p, p.srcOffset, p.src0);
    const bText = this.ipText(p, p.dstOffset, p.dst0);
    const f = flip ? new Flow(bText, aText) : new Flow(aText, bText);
    f.hash = h;
    f.ipVersion = p.ipVersion;
    f.protocol = proto;
    if (flip) {
      f.s0 = p.dst0;
      f.s1 = p.dst1;
      f.s2 = p.dst2;
      f.s3 = p.dst3;
      f.d0 = p.src0;
      f.d1 = p.src1;
      f.d2 = p.src2;
      f.d3 = p.src3;
      f.sport = dport;
      f.dport = sport;
      f.history = '^';
    } else {
      f.s0 = p.src0;
      f.s1 = p.src1;
      f.s2 = p.src2;
      f.s3 = p.src3;
      f.d0 = p.dst0;
      f.d1 = p.dst1;
      f.d2 = p.dst2;
      f.d3 = p.dst3;
      f.sport = sport;
      f.dport = dport;
    }
    if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
      // the initiator's message: for a flipped reply, the request it answers
      if (flip) {
        f.icmpType = dport;
        f.icmpCode = 0;
      } else {
        f.icmpType = p.icmpType;
        f.icmpCode = p.icmpCode;
      }
    }
    f.vlanId = p.vlanId;
    f.firstSec = p.tsSec;
    f.firstNsec = p.tsNsec;
    f.lastReport = t;
    if (this.lookupDomain) {
      f.srcDomain = this.lookupDomain(f.srcIp, t);
      f.dstDomain = this.lookupDomain(f.dstIp, t);
      f.domainEpoch = this.lookupEpoch();
      f.domainLookedUp = t;
    }
    const slot = h & this.mask;
    f.nextInBucket = this.buckets[slot] as Flow | null;
    this.buckets[slot] = f;
    this.active.push(f);
    this.stats.flows_created++;
    this.lastFromInitiator = !flip;
    return f;
  }

  /** IPv4 text from a small cache (servers and local addresses repeat across flows) */
  private ipText(p: DecodedPacket, offset: number, word0: number): string {
    if (p.ipVersion !== 4) return formatIp(p.data, offset, 6);
    let text = this.ipv4Text.get(word0);
    if (text === undefined) {
      if (this.ipv4Text.size >= 65536) this.ipv4Text.clear();
      text = formatIp(p.data, offset, 4);
      this.ipv4Text.set(word0, text);
    }
    return text;
  }

  private account(f: Flow, p: DecodedPacket, forward: boolean, t: number): void {
    // a reassembled datagram counts every frame it came in, and their bytes on the wire
    if (forward) {
      f.srcPackets += p.frames;
      f.srcBytes += p.wireLen;
    } else {
      f.dstPackets += p.frames;
      f.dstBytes += p.wireLen;
    }
    // file order can differ from time order (merged captures): keep the newest time as the end
    if (p.tsSec > f.lastSec || (p.tsSec === f.lastSec && p.tsNsec > f.lastNsec)) {
      f.lastSec = p.tsSec;
      f.lastNsec = p.tsNsec;
    }
    f.lastSeen = t;
    if (f.protocol === PROTO_TCP) this.trackTcp(f, p, forward, t);
    else if (p.hasTransport || p.fragment === FRAG_LATER) this.addHistory(f, forward, H_DATA);
    if (f.list === 0) this.active.touch(f);
  }

  private trackTcp(f: Flow, p: DecodedPacket, forward: boolean, t: number): void {
    const flags = p.tcpFlags;
    if (!p.hasTransport) return; // a later fragment: bytes counted, nothing to read
    let letters = 0;
    const syn = flags & TCP_SYN;
    const ack = flags & TCP_ACK;
    if (syn) letters |= ack ? H_SYNACK : H_SYN;
    if (syn && flags & (TCP_FIN | TCP_RST)) letters |= H_MULTI;
    if (flags & TCP_FIN) letters |= H_FIN;
    if (flags & TCP_RST) letters |= H_RST;
    const payload = p.payloadLength;
    if (payload > 0) letters |= H_DATA;
    else if (ack && !(flags & (TCP_SYN | TCP_FIN | TCP_RST))) letters |= H_ACK;
    if (p.tcpWindow === 0 && !(flags & (TCP_RST | TCP_SYN))) letters |= H_ZEROWIN;
    // retransmission: payload that starts before the highest sequence already seen this way
    const seqEnd = (p.tcpSeq + payload + (syn ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) >>> 0;
    if (syn && !ack && forward && f.isn < 0) f.isn = p.tcpSeq;
    if (forward) {
      if (payload > 0 && f.srcNextSeq >= 0 && ((p.tcpSeq - f.srcNextSeq) | 0) < 0) letters |= H_RETRANS;
      if (f.srcNextSeq < 0 || ((seqEnd - f.srcNextSeq) | 0) > 0) f.srcNextSeq = seqEnd;
      f.srcFlags |= flags;
    } else {
      if (payload > 0 && f.dstNextSeq >= 0 && ((p.tcpSeq - f.dstNextSeq) | 0) < 0) letters |= H_RETRANS;
      if (f.dstNextSeq < 0 || ((seqEnd - f.dstNextSeq) | 0) > 0) f.dstNextSeq = seqEnd;
      f.dstFlags |= flags;
    }
    if (letters !== 0) this.addHistory(f, forward, letters);
    if (!f.closed) {
      const rst = (f.srcHistory | f.dstHistory) & H_RST;
      const bothFin = f.srcHistory & H_FIN && f.dstHistory & H_FIN;
      if (rst || bothFin) {
        f.closed = true;
        f.closedAt = t;
        if (f.list === 0) {
          this.active.remove(f);
          this.closing.push(f);
          f.list = 1;
        }
      }
    }
  }

  private addHistory(f: Flow, forward: boolean, letters: number): void {
    const seen = forward ? f.srcHistory : f.dstHistory;
    const fresh = letters & ~seen;
    if (fresh === 0) return;
    const chars = forward ? UPPER : LOWER;
    for (let i = 0; i < LETTER_BITS.length; i++) if (fresh & LETTER_BITS[i]!) f.history += chars[i]!;
    if (forward) f.srcHistory |= fresh;
    else f.dstHistory |= fresh;
  }

  private fragmentKey(p: DecodedPacket): string {
    return `${p.ipVersion}|${p.src0}|${p.src1}|${p.src2}|${p.src3}|${p.dst0}|${p.dst1}|${p.dst2}|${p.dst3}|${p.protocol}|${p.fragmentId}`;
  }

  private rememberFragment(p: DecodedPacket, f: Flow): void {
    if (this.fragments.size >= MAX_FRAGMENT_TRACK) {
      const oldest = this.fragments.keys().next().value;
      if (oldest !== undefined) this.fragments.delete(oldest);
    }
    this.fragments.set(this.fragmentKey(p), f);
  }

  private addFragment(p: DecodedPacket, t: number): Flow | null {
    const f = this.fragments.get(this.fragmentKey(p));
    if (f === undefined || f.list < 0) {
      this.stats.fragments_unattributed++;
      return null;
    }
    this.stats.fragments_attributed++;
    const forward = p.src0 === f.s0 && p.src1 === f.s1 && p.src2 === f.s2 && p.src3 === f.s3;
    this.lastFromInitiator = forward;
    this.account(f, p, forward, t);
    return f;
  }

  /** Run time-driven work at `nowSec` (wall clock in live mode when no packet arrives). */
  advance(nowSec: number): void {
    if (nowSec > this.now) this.now = nowSec;
    this.housekeeping();
  }

  private housekeeping(): void {
    const now = this.now;
    this.nextHousekeeping = now + this.housekeepingEvery;
    for (let f = this.closing.head; f !== null && f.closedAt + this.linger <= now; f = this.closing.head) {
      this.finish(f, f.srcHistory & H_RST || f.dstHistory & H_RST ? 'rst' : 'fin');
    }
    for (let f = this.active.head; f !== null && f.lastSeen + this.timeout <= now; f = this.active.head) {
      this.finish(f, 'timeout');
    }
    if (now >= this.nextFlushSweep) {
      this.nextFlushSweep = now + Math.max(this.housekeepingEvery, this.flushInterval / 10);
      for (let f = this.active.head; f !== null; f = f.next) {
        if (now - f.lastReport >= this.flushInterval && (f.srcPackets !== f.repSrcPackets || f.dstPackets !== f.repDstPackets)) this.report(f, false, undefined);
      }
    }
  }

  /** Report and drop every flow (end of an offline file, or sensor shutdown). */
  flushAll(reason: FlowEndReason = 'end_of_capture'): void {
    for (let f = this.closing.head; f !== null; f = this.closing.head) this.finish(f, f.srcHistory & H_RST || f.dstHistory & H_RST ? 'rst' : 'fin');
    for (let f = this.active.head; f !== null; f = this.active.head) this.finish(f, reason);
  }

  private evictOne(): void {
    const victim = this.closing.head ?? this.active.head;
    if (victim === null) return;
    if (victim.list === 1) this.finish(victim, victim.srcHistory & H_RST || victim.dstHistory & H_RST ? 'rst' : 'fin');
    else {
      this.stats.evicted++;
      this.finish(victim, 'evicted');
    }
  }

  private finish(f: Flow, reason: FlowEndReason): void {
    if (reason === 'fin') this.stats.ended_fin++;
    else if (reason === 'rst') this.stats.ended_rst++;
    else if (reason === 'timeout') this.stats.ended_timeout++;
    this.report(f, true, reason);
    // unlink from its bucket and list
    const slot = f.hash & this.mask;
    let cur = this.buckets[slot] as Flow | null;
    if (cur === f) this.buckets[slot] = f.nextInBucket;
    else {
      while (cur !== null && cur.nextInBucket !== f) cur = cur.nextInBucket;
      if (cur !== null) cur.nextInBucket = f.nextInBucket;
    }
    f.nextInBucket = null;
    if (f.list === 0) this.active.remove(f);
    else this.closing.remove(f);
    f.list = -1;
    this.onFlowEnd?.(f);
  }

  private report(f: Flow, final: boolean, reason: FlowEndReason | undefined): void {
    if (this.lookupDomain && (f.srcDomain === undefined || f.dstDomain === undefined) && f.lastSeen - f.domainLookedUp >= 1) {
      // A long flow whose lookup missed may have been named since (a later lookup of the same
      // address, or a capture that began mid-flow). Short flows are not asked again: their answer
      // would come before they started. If the cache learned nothing since, nothing can change.
      const epoch = this.lookupEpoch();
      if (epoch !== f.domainEpoch || epoch === -2) {
        f.srcDomain ??= this.lookupDomain(f.srcIp, f.lastSeen);
        f.dstDomain ??= this.lookupDomain(f.dstIp, f.lastSeen);
        f.domainEpoch = epoch;
        f.domainLookedUp = f.lastSeen;
      }
    }
    const hasPorts = f.protocol === PROTO_TCP || f.protocol === PROTO_UDP || f.protocol === PROTO_SCTP;
    const isIcmp = f.protocol === PROTO_ICMP || f.protocol === PROTO_ICMPV6;
    let cid: string;
    if (f.flowIdValue === '') {
      cid = this.seed === 0 ? f.communityId : flowCommunityId(f, this.seed);
      // recompute so the digest buffer holds this flow's (communityId may have been cached)
      if (this.seed === 0) flowCommunityId(f, 0);
      f.flowIdValue = flowId(lastCommunityIdDigest(), f.firstSec, f.firstNsec);
    } else {
      cid = this.seed === 0 ? f.communityId : flowCommunityId(f, this.seed);
    }
    const r: FlowReport = {
      flowId: f.flowIdValue,
      communityId: cid,
      sequence: f.reports,
      final,
      ipVersion: f.ipVersion as 4 | 6,
      protocol: f.protocol,
      transport: transportName(f.protocol),
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      startSec: f.firstSec,
      startNsec: f.firstNsec,
      endSec: f.lastSec,
      endNsec: f.lastNsec,
      delta: {
        src: { packets: f.srcPackets - f.repSrcPackets, bytes: f.srcBytes - f.repSrcBytes },
        dst: { packets: f.dstPackets - f.repDstPackets, bytes: f.dstBytes - f.repDstBytes },
      },
      total: { src: { packets: f.srcPackets, bytes: f.srcBytes }, dst: { packets: f.dstPackets, bytes: f.dstBytes } },
      tcpFlags: f.protocol === PROTO_TCP ? tcpFlagNames(f.srcFlags | f.dstFlags) : [],
      history: f.history,
      state: connState(f),
    };
    if (reason !== undefined) r.endReason = reason;
    if (hasPorts) {
      r.srcPort = f.sport;
      r.dstPort = f.dport;
    }
    if (isIcmp) {
      r.icmpType = f.icmpType;
      r.icmpCode = f.icmpCode;
    }
    if (f.vlanId >= 0) r.vlanId = f.vlanId;
    if (f.srcDomain !== undefined) r.srcDomain = f.srcDomain;
    if (f.dstDomain !== undefined) r.dstDomain = f.dstDomain;
    f.repSrcPackets = f.srcPackets;
    f.repSrcBytes = f.srcBytes;
    f.repDstPackets = f.dstPackets;
    f.repDstBytes = f.dstBytes;
    f.lastReport = this.now;
    f.reports++;
    this.stats.reports++;
    if (final) this.stats.final_reports++;
    this.onReport(r);
  }
}

const FLOW_ID_BYTES = new Uint8Array(15);
const FLOW_ID_B64 = Buffer.from(FLOW_ID_BYTES.buffer, FLOW_ID_BYTES.byteOffset, 15);

/**
 * Deterministic per-flow id: 64 bits of the Community ID digest (the tuple), the first packet's
 * second (32 bits) and its nanoseconds to 64 ns (24 bits), base64url. The same capture always
 * yields the same ids (idempotent replays), and a reused port pair gets a new one. No second hash:
 * on short-flow traffic every per-flow cost shows.
 */
function flowId(cidDigest: Uint8Array, sec: number, nsec: number): string {
  FLOW_ID_BYTES.set(cidDigest.subarray(0, 8), 0);
  FLOW_ID_BYTES[8] = (sec >>> 24) & 0xff;
  FLOW_ID_BYTES[9] = (sec >>> 16) & 0xff;
  FLOW_ID_BYTES[10] = (sec >>> 8) & 0xff;
  FLOW_ID_BYTES[11] = sec & 0xff;
  const frac = nsec >>> 6; // < 2^24
  FLOW_ID_BYTES[12] = (frac >>> 16) & 0xff;
  FLOW_ID_BYTES[13] = (frac >>> 8) & 0xff;
  FLOW_ID_BYTES[14] = frac & 0xff;
  return FLOW_ID_B64.toString('base64url');
}

/**
 * Zeek's conn_state from what each side sent. For UDP/ICMP/other: S0 (initiator only), SF (both),
 * OTH (responder only: the capture missed the start).
 */
export function connState(f: Flow): string {
  if (f.protocol !== PROTO_TCP) return f.srcPackets > 0 ? (f.dstPackets > 0 ? 'SF' : 'S0') : 'OTH';
  const o = f.srcHistory;
  const r = f.dstHistory;
  const origSyn = (o & H_SYN) !== 0;
  const respSynAck = (r & H_SYNACK) !== 0;
  if (origSyn && !respSynAck) {
    if (o & H_RST) return 'RSTOS0';
    if (r & H_RST) return 'REJ';
    if (o & H_FIN) return 'SH';
    return f.dstPackets > 0 ? 'OTH' : 'S0';
  }
  if (!origSyn && respSynAck) {
    if (r & H_RST) return 'RSTRH';
    if (r & H_FIN) return 'SHR';
    return 'OTH';
  }
  if (!origSyn && !respSynAck) return 'OTH';
  if (o & H_RST) return 'RSTO';
  if (r & H_RST) return 'RSTR';
  if (o & H_FIN && r & H_FIN) return 'SF';
  if (o & H_FIN) return 'S2';
  if (r & H_FIN) return 'S3';
  return 'S1';
}
