import type { EcsEvent, EcsProcessRef } from '../../../kibana-plugin/common/ecs.ts';

interface Owner {
  process: EcsProcessRef;
  atMs: number;
}

export interface AttributionStats {
  flows: number;
  attributed: number;
  /** socket keys forgotten because the table was full (bounded memory), oldest first */
  evicted: number;
}

const key = (transport: string, aIp: string, aPort: number, bIp: string, bPort: number) => `${transport}|${aIp}|${aPort}|${bIp}|${bPort}`;
/** IPv4 sockets opened as AF_INET6 report v4-mapped addresses; packets carry plain IPv4. */
const plain = (ip: string) => (ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);

/**
 * Joins packet flows with the eBPF socket events of the same host: a connect or accept names the process that owns
 * one end of a 5-tuple, and a flow with that 5-tuple inherits it. Entries expire after `ttlMs` (a flow is reported
 * at the latest flow_timeout after its last packet) and the table is bounded.
 */
export class SocketAttribution {
  private readonly owners = new Map<string, Owner>();
  readonly stats: AttributionStats = { flows: 0, attributed: 0, evicted: 0 };

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 200_000,
  ) {}

  /** Learns from syscall documents: connects (this host is the source) and accepts (this host is the destination). */
  observe(doc: EcsEvent): void {
    const action = doc.event.action;
    // Only these two say which end is local; send/receive documents orient by socket role, not by local end.
    if (action !== 'connection_attempted' && action !== 'connection_accepted') return;
    const s = doc.source;
    const d = doc.destination;
    const transport = doc.network?.transport;
    const process = doc.process;
    if (!s?.ip || !d?.ip || s.port === undefined || d.port === undefined || !transport || !process) return;
    const owner = { process: { pid: process.pid, entity_id: process.entity_id, ...(process.name ? { name: process.name } : {}), ...(process.executable ? { executable: process.executable } : {}) }, atMs: Date.parse(doc['@timestamp']) };
    // The local end of the socket is the source for connects and the destination for accepts; store it first.
    const local = action === 'connection_accepted' ? d : s;
    const remote = local === d ? s : d;
    this.remember(key(transport, plain(local.ip!), local.port!, plain(remote.ip!), remote.port!), owner);
  }

  /** Fills process.* on a flow document when a socket event owns one of its ends; prefers the initiator's side. */
  attribute(doc: EcsEvent): void {
    this.stats.flows += 1;
    const s = doc.source;
    const d = doc.destination;
    const transport = doc.network?.transport;
    if (!s?.ip || !d?.ip || s.port === undefined || d.port === undefined || !transport) return;
    const initiator = this.owners.get(key(transport, s.ip, s.port, d.ip, d.port));
    const responder = this.owners.get(key(transport, d.ip, d.port, s.ip, s.port));
    const owner = initiator ?? responder;
    if (!owner) return;
    doc.process = { ...owner.process };
    // On loopback both ends are local processes: the initiator is process.*, the responder is kept beside it.
    if (initiator && responder) doc.provmon = { ...doc.provmon, responder_process: responder.process };
    this.stats.attributed += 1;
  }

  /** Drops entries older than the ttl. */
  expire(nowMs: number): void {
    for (const [k, owner] of this.owners) {
      if (nowMs - owner.atMs <= this.ttlMs) break; // insertion order is time order
      this.owners.delete(k);
    }
  }

  private remember(k: string, owner: Owner): void {
    this.owners.delete(k); // re-insert at the end: keeps the map in time order
    if (this.owners.size >= this.maxEntries) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
      this.stats.evicted += 1;
    }
    this.owners.set(k, owner);
  }
}
