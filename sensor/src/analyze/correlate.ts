/**
 * Flow → process attribution for offline analysis. The audit log names a process's socket syscalls with one end of
 * the connection (connect/sendto: the peer; accept: the peer; bind: the local end), never the whole 5-tuple, so a
 * flow is matched on the end the syscall names plus time, most specific first:
 *
 *   accept_peer           accept whose peer (ip, ephemeral port) is the flow's initiator      confidence 0.95
 *   connect_destination   connect to the flow's responder (ip, port) within the tolerance      0.9 (one process) / 0.6 (several: nearest)
 *   sendto_destination    sendto/sendmsg to the flow's responder (UDP)                          same as connect
 *   bind_local            the process bound the flow's responder port (a server whose accept
 *                         was not logged, a UDP server)                                         0.7
 *   time_network_activity no socket record matches: the one process with network syscalls
 *                         within the tolerance of the flow's start                              0.4
 *   time_exec             no network syscalls at all near it: the one process that started
 *                         within the tolerance before the flow                                  0.3
 *
 * A flow with no match, or with several equally likely processes, stays unattributed (listed, with candidates).
 * The initiator's process goes to process.*, a loopback responder's to provmon.responder_process (as live flows).
 */
import type { EcsEvent, EcsProcessRef } from '../../../kibana-plugin/common/ecs.ts';
import type { FlowDocument } from '../pcap/ecs.ts';

export type AttributionMethod = 'accept_peer' | 'connect_destination' | 'sendto_destination' | 'bind_local' | 'time_network_activity' | 'time_exec';

export interface Attribution {
  method: AttributionMethod;
  confidence: number;
  /** the audit event the decision rests on */
  evidence: { event_id: string; at: string; action: string };
  /** other processes that matched as well (entity ids), when there were any */
  alternatives?: string[];
}

interface Observation {
  atMs: number;
  action: string;
  eventId: string;
  at: string;
  process: EcsProcessRef;
}

export interface CorrelationStats {
  flows: number;
  attributed: number;
  by_method: Record<string, number>;
  unattributed: number;
  /** observations forgotten because maxObservations was reached (oldest first): counted */
  observations_evicted: number;
}

export interface UnattributedFlow {
  flow_id: string;
  start: string;
  source: string;
  destination: string;
  transport: string;
  bytes: number;
  /** processes that were candidates but not unique (the first two found: two are enough to rule out a guess) */
  candidates: string[];
}

const endpoint = (ip: string | undefined, port: number | undefined) => `${ip ?? ''}|${port ?? ''}`;
const NETWORK_ACTIONS = new Set(['connection_attempted', 'connection_accepted', 'bind', 'listen', 'send', 'socket']);

/**
 * Observations under one key, sorted by time once sealed. Lookups are binary searches; for "which processes were
 * active in this window" each entry also points past the run of entries of its own process, so a window full of
 * one busy process costs a jump, not a scan (a dense log otherwise makes every flow read thousands of entries).
 */
class TimeIndex {
  private readonly lists = new Map<string, Observation[]>();
  private readonly nextOther = new Map<string, Int32Array>();

  add(key: string, o: Observation): void {
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = []));
    list.push(o);
  }

  /** Sorts once, after the audit logs are read (records come nearly in order; rotated files may not). */
  seal(): void {
    for (const [key, list] of this.lists) {
      list.sort((a, b) => a.atMs - b.atMs);
      const next = new Int32Array(list.length);
      for (let i = list.length - 1; i >= 0; i--) {
        next[i] = i + 1 < list.length && list[i + 1]!.process.entity_id === list[i]!.process.entity_id ? next[i + 1]! : i + 1;
      }
      this.nextOther.set(key, next);
    }
  }

  private static lowerBound(list: Observation[], ms: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.atMs < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The observation within [fromMs, toMs] closest to atMs. */
  nearest(key: string, fromMs: number, toMs: number, atMs: number): Observation | undefined {
    const list = this.lists.get(key);
    if (!list) return undefined;
    const i = TimeIndex.lowerBound(list, atMs);
    const after = i < list.length && list[i]!.atMs <= toMs ? list[i] : undefined;
    const before = i > 0 && list[i - 1]!.atMs >= fromMs ? list[i - 1] : undefined;
    if (!after) return before;
    if (!before) return after;
    return atMs - before.atMs <= after.atMs - atMs ? before : after;
  }

  /** Up to `max` observations of distinct processes within [fromMs, toMs], earliest first. */
  distinct(key: string, fromMs: number, toMs: number, max: number): Observation[] {
    const list = this.lists.get(key);
    const next = this.nextOther.get(key);
    if (!list || !next) return [];
    const out: Observation[] = [];
    for (let i = TimeIndex.lowerBound(list, fromMs); i < list.length && list[i]!.atMs <= toMs && out.length < max; i = next[i]!) {
      const o = list[i]!;
      if (!out.some((x) => x.process.entity_id === o.process.entity_id)) out.push(o);
    }
    return out;
  }

  remove(key: string, o: Observation): void {
    const list = this.lists.get(key);
    if (!list) return;
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.lists.delete(key);
  }
}

export class FlowCorrelator {
  readonly stats: CorrelationStats = { flows: 0, attributed: 0, by_method: {}, unattributed: 0, observations_evicted: 0 };
  readonly unattributed: UnattributedFlow[] = [];
  private readonly byPeer = new TimeIndex();
  private readonly byDestination = new TimeIndex();
  private readonly bySendDestination = new TimeIndex();
  private readonly byLocalPort = new TimeIndex();
  private readonly network = new TimeIndex();
  private readonly execs = new TimeIndex();
  private readonly order: { places: [string, TimeIndex][]; o: Observation }[] = [];
  private orderHead = 0;
  /** one decision per flow: later reports of the same flow reuse it */
  private readonly decided = new Map<string, { process?: EcsProcessRef; responder?: EcsProcessRef; attribution?: Attribution }>();

  constructor(
    private readonly toleranceMs: number,
    private readonly maxObservations = 1_000_000,
    private readonly maxUnattributedListed = 10_000,
  ) {}

  /** Learns from one syscall document (any dataset; only process and network ones matter). */
  observe(doc: EcsEvent): void {
    const p = doc.process;
    if (!p?.entity_id) return;
    const action = doc.event.action;
    if (doc.event.outcome === 'failure') return;
    const o: Observation = { atMs: Date.parse(doc['@timestamp']), action, eventId: doc.event.id, at: doc['@timestamp'], process: ref(p) };
    const places: [string, TimeIndex][] = [];
    if (action === 'exec') places.push(['exec', this.execs]);
    else if (NETWORK_ACTIONS.has(action)) {
      places.push(['any', this.network]);
      if (action === 'connection_attempted' && doc.destination?.ip) places.push([endpoint(doc.destination.ip, doc.destination.port), this.byDestination]);
      else if (action === 'send' && doc.destination?.ip) places.push([endpoint(doc.destination.ip, doc.destination.port), this.bySendDestination]);
      else if (action === 'connection_accepted' && doc.source?.ip) places.push([endpoint(doc.source.ip, doc.source.port), this.byPeer]);
      else if (action === 'bind' && doc.source?.port) places.push([String(doc.source.port), this.byLocalPort]);
    }
    if (places.length) this.put(places, o);
  }

  /** Call once between the audit logs and the capture. */
  seal(): void {
    for (const index of [this.byPeer, this.byDestination, this.bySendDestination, this.byLocalPort, this.network, this.execs]) index.seal();
  }

  /** Sets process.* and provmon.attribution on a flow document, or lists it as unattributed. */
  attribute(doc: FlowDocument): void {
    const flowId = doc.provmon.flow.id;
    let decision = this.decided.get(flowId);
    if (!decision) {
      decision = this.decide(doc);
      this.decided.set(flowId, decision);
      this.stats.flows += 1;
      if (decision.attribution) {
        this.stats.attributed += 1;
        this.stats.by_method[decision.attribution.method] = (this.stats.by_method[decision.attribution.method] ?? 0) + 1;
      } else this.stats.unattributed += 1;
    }
    if (decision.process) doc.process = { ...decision.process };
    if (decision.responder) doc.provmon.responder_process = decision.responder;
    doc.provmon.attribution = decision.attribution ?? { method: 'none', confidence: 0 };
    if (doc.provmon.flow.final) this.decided.delete(flowId);
  }

  private decide(doc: FlowDocument): { process?: EcsProcessRef; responder?: EcsProcessRef; attribution?: Attribution } {
    const s = doc.source;
    const d = doc.destination;
    const startMs = Date.parse(doc.event.start ?? doc['@timestamp']);
    const from = startMs - this.toleranceMs;
    const to = startMs + this.toleranceMs;
    const udp = doc.network?.transport === 'udp';
    // the responder: an accept naming the initiator's ephemeral port, else a bind of the responder's port
    const accepted = this.byPeer.nearest(endpoint(s?.ip, s?.port), from, to, startMs);
    const bound = accepted ? undefined : this.byLocalPort.nearest(String(d?.port ?? ''), from - 3_600_000, to, startMs);
    // the initiator: a connect (or sendto) to the responder's endpoint
    const index = udp ? this.bySendDestination : this.byDestination;
    const key = endpoint(d?.ip, d?.port);
    const initiator = index.nearest(key, from, to, startMs);
    if (initiator) {
      const others = index
        .distinct(key, from, to, 4)
        .map((o) => o.process.entity_id)
        .filter((id) => id !== initiator.process.entity_id)
        .slice(0, 3);
      return {
        process: initiator.process,
        ...(accepted ? { responder: accepted.process } : bound ? { responder: bound.process } : {}),
        attribution: verdict(udp ? 'sendto_destination' : 'connect_destination', others.length ? 0.6 : 0.9, initiator, others),
      };
    }
    if (accepted) return { process: accepted.process, attribution: verdict('accept_peer', 0.95, accepted, []) };
    if (bound) return { process: bound.process, attribution: verdict('bind_local', 0.7, bound, []) };
    // fallbacks by time: only a single candidate is an answer, so two distinct processes are enough to know
    const active = this.network.distinct('any', from, to, 2);
    if (active.length === 1) return { process: active[0]!.process, attribution: verdict('time_network_activity', 0.4, active[0]!, []) };
    if (active.length === 0) {
      const started = this.execs.distinct('exec', from, startMs + 1, 2);
      if (started.length === 1) return { process: started[0]!.process, attribution: verdict('time_exec', 0.3, started[0]!, []) };
      this.list(doc, started);
    } else this.list(doc, active);
    return {};
  }

  private list(doc: FlowDocument, candidates: Observation[]): void {
    if (this.unattributed.length >= this.maxUnattributedListed) return;
    this.unattributed.push({
      flow_id: doc.provmon.flow.id,
      start: doc.event.start ?? doc['@timestamp'],
      source: hostPort(doc.source?.ip, doc.source?.port),
      destination: hostPort(doc.destination?.ip, doc.destination?.port),
      transport: doc.network?.transport ?? '?',
      bytes: doc.provmon.flow.total.source.bytes + doc.provmon.flow.total.destination.bytes,
      candidates: candidates.slice(0, 5).map((c) => c.process.entity_id),
    });
  }

  private put(places: [string, TimeIndex][], o: Observation): void {
    for (const [key, index] of places) index.add(key, o);
    this.order.push({ places, o });
    if (this.order.length - this.orderHead > this.maxObservations) {
      // Bounded: the oldest observation goes (the cost is linear in its lists; lists are per endpoint and short)
      const old = this.order[this.orderHead]!;
      this.orderHead += 1;
      for (const [key, index] of old.places) index.remove(key, old.o);
      this.stats.observations_evicted += 1;
      if (this.orderHead > 65_536 && this.orderHead * 2 > this.order.length) {
        this.order.splice(0, this.orderHead);
        this.orderHead = 0;
      }
    }
  }
}

function ref(p: EcsProcessRef): EcsProcessRef {
  return {
    pid: p.pid,
    entity_id: p.entity_id,
    ...(p.name ? { name: p.name } : {}),
    ...(p.executable ? { executable: p.executable } : {}),
    ...(p.args ? { args: p.args } : {}),
    ...(p.start ? { start: p.start } : {}),
  };
}

function verdict(method: AttributionMethod, confidence: number, o: Observation, alternatives: string[]): Attribution {
  return { method, confidence, evidence: { event_id: o.eventId, at: o.at, action: o.action }, ...(alternatives.length ? { alternatives } : {}) };
}

function hostPort(ip: string | undefined, port: number | undefined): string {
  if (!ip) return '?';
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
