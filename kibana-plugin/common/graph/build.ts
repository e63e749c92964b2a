/**
 * EcsEvent[] → steps (atomic, timed dependencies) and node facts. This is the only place that knows the
 * sensor's document shapes (kibana-plugin/common/ecs.ts); everything downstream sees steps and nodes.
 *
 * The store is incremental: the tracker feeds it page by page as it expands its frontier, so every index here
 * is updated per event and nothing assumes it has seen the whole day.
 */
import type { EcsEndpoint, EcsEvent, EcsProcessRef } from '../ecs.ts';
import {
  channelNodeId,
  endpointNodeId,
  isHostLocalIp,
  unmapIp,
  fileNodeId,
  flowSources,
  flowTargets,
  processNodeId,
  type ChannelInfo,
  type EdgeKind,
  type EndpointInfo,
  type FileInfo,
  type Flow,
  type NodeId,
  type NodeInfo,
  type ProcessImage,
  type ProcessInfo,
  type Step,
} from './model.ts';
import { basename, interpreterFamily, resolvePath, scriptArgument, shebangScript } from './paths.ts';
import { parseTimestamp, sortInstant, type Instant } from './time.ts';

type SocketKind = 'connect' | 'accept';

/**
 * A connect and an accept of the same connection are joined when their times are at most this far apart (clock
 * skew between hosts plus a connection waiting in the listen backlog); the nearest candidate wins.
 */
export const STITCH_WINDOW_MS = 120_000;

/** One end of a TCP connection as a connect or accept document describes it, for stitching. */
interface ConnectionEnd {
  role: SocketKind;
  proc: NodeId;
  at: Instant;
  iso: string;
  eventId: string;
  stitched: boolean;
}

/** The client's end (ip:port) of a connection: what a source is asked for to find the other side. */
export interface ClientEnd {
  ip: string;
  port: number;
  t: number;
}

/** connect() on a non-blocking socket "fails" with EINPROGRESS and then succeeds: not a failure for us. */
const IN_PROGRESS = new Set(['EINPROGRESS', '115', '-115', 'EALREADY', '114', '-114']);

const EMPTY: readonly Step[] = Object.freeze([]);

export class StepStore {
  private readonly eventIds = new Set<string>();
  readonly steps = new Map<string, Step>();
  readonly nodes = new Map<NodeId, NodeInfo>();
  private readonly inIdx = new Map<NodeId, Step[]>();
  private readonly outIdx = new Map<NodeId, Step[]>();
  /** child process node → its spawn step (a process has exactly one parent). */
  private readonly spawnOf = new Map<NodeId, Step>();
  /** `${processNode}|${fd}` → what the socket is, to attach send/receive to the right edge. */
  private readonly sockets = new Map<string, { kind: SocketKind; peer: NodeId }>();
  /** process node → peer endpoint node → how the process reached it. */
  private readonly peers = new Map<NodeId, Map<NodeId, SocketKind>>();
  /** ip → domain, from dns lookup results and from endpoint.domain fields. */
  private readonly domains = new Map<string, string>();
  /** ip → endpoint nodes with that ip (every port), to label them when an answer arrives later. */
  private readonly endpointsByIp = new Map<string, EndpointInfo[]>();
  /** connection key (transport, client end, server end; the host for loopback) → connects and accepts seen. */
  private readonly connections = new Map<string, ConnectionEnd[]>();
  /** client ends of connects/accepts not stitched yet, for the loader to ask the source about. */
  private readonly unmatched = new Map<string, ClientEnd>();

  get eventCount(): number {
    return this.eventIds.size;
  }

  hasEvent(id: string): boolean {
    return this.eventIds.has(id);
  }

  /** Adds events (duplicates by event.id are ignored) and returns the steps they produced. */
  ingest(events: readonly EcsEvent[]): Step[] {
    const added: Step[] = [];
    for (const ev of events) {
      const id = eventId(ev);
      if (this.eventIds.has(id)) continue;
      this.eventIds.add(id);
      this.ingestOne(ev, id, added);
    }
    return added;
  }

  /** Steps whose information flows into `node`. */
  incoming(node: NodeId): readonly Step[] {
    return this.inIdx.get(node) ?? EMPTY;
  }

  /** Steps whose information flows out of `node`. */
  outgoing(node: NodeId): readonly Step[] {
    return this.outIdx.get(node) ?? EMPTY;
  }

  node(id: NodeId): NodeInfo | undefined {
    return this.nodes.get(id);
  }

  process(id: NodeId): ProcessInfo | undefined {
    const n = this.nodes.get(id);
    return n?.kind === 'process' ? n : undefined;
  }

  spawnStep(child: NodeId): Step | undefined {
    return this.spawnOf.get(child);
  }

  domainOf(ip: string): string | undefined {
    return this.domains.get(ip);
  }

  // -------------------------------------------------------------------------------------------------------------

  private ingestOne(ev: EcsEvent, id: string, out: Step[]): void {
    const host = ev.host?.id ?? ev.host?.name ?? 'unknown-host';
    const at: Instant = { t: parseTimestamp(ev['@timestamp']), host };
    if (ev.event.sequence !== undefined) at.seq = ev.event.sequence;
    const proc = ev.process ? this.observeProcess(ev, host, at) : undefined;
    const failed = ev.event.outcome === 'failure';
    const action = ev.event.action;
    const io = ev.provmon?.io;

    const step = (
      kind: EdgeKind,
      source: NodeId,
      target: NodeId,
      flow: Flow,
      extra: Partial<Step> = {},
      suffix = '',
      interval = false,
    ): Step => {
      const startIso = interval && ev.event.start ? ev.event.start : ev['@timestamp'];
      const endIso = interval && ev.event.end ? ev.event.end : ev['@timestamp'];
      const s: Step = {
        id: `${id}${suffix}`,
        eventId: id,
        kind,
        source,
        target,
        flow,
        start: startIso === ev['@timestamp'] ? at : { t: parseTimestamp(startIso) },
        end: endIso === ev['@timestamp'] ? at : { t: parseTimestamp(endIso) },
        startIso,
        endIso,
        ...extra,
      };
      this.addStep(s);
      out.push(s);
      return s;
    };

    switch (ev.data_stream?.dataset ?? ev.event.dataset) {
      case 'provmon.process': {
        if (!proc || !ev.process) return;
        const parent = ev.process.parent?.entity_id ? processNodeId(ev.process.parent.entity_id) : undefined;
        if (action === 'fork') {
          if (!parent) return;
          const previous = this.spawnOf.get(proc);
          if (previous?.implied) this.removeStep(previous);
          else if (previous) return;
          step('spawn', parent, proc, 'st');
        } else if (action === 'exec' || action === 'already_running') {
          if (parent && !this.spawnOf.has(proc)) {
            // No fork seen (the process predates the sensor, or its fork is outside the window): the lineage is
            // still a dependency, dated at the process start when the document says it.
            const startIso = ev.process.start ?? ev['@timestamp'];
            const startAt: Instant = startIso === ev['@timestamp'] ? at : { t: parseTimestamp(startIso) };
            const s: Step = {
              id: `${id}#spawn`,
              eventId: id,
              kind: 'spawn',
              source: parent,
              target: proc,
              flow: 'st',
              start: startAt,
              end: startAt,
              startIso,
              endIso: startIso,
              implied: true,
            };
            this.addStep(s);
            out.push(s);
          }
          if (action === 'exec' && !failed) {
            const exe = ev.process.executable;
            if (exe) step('exec', this.fileNode(host, exe), proc, 'st');
            // `./x.sh` runs /bin/bash on x.sh: the kernel (shebang) or the shell read the script's content, which is
            // what actually executed. The edge comes from the script so the file that links the processes shows.
            // A shebang exec (`./x.sh`) reports the caller's argv: argv[0] is the script (paths.ts shebangScript).
            const script = exe && interpreterFamily(basename(exe)) ? (shebangScript(exe, ev.process.args, ev.process.name) ?? scriptArgument(ev.process.args)) : undefined;
            if (script) {
              const path = resolvePath(script, ev.process.working_directory);
              if (path !== exe) step('exec', this.fileNode(host, path, undefined), proc, 'st', { script: true }, '#script');
            }
          }
        } else if (action === 'end') {
          const info = this.process(proc);
          if (info) {
            info.end = ev.process.end ?? ev['@timestamp'];
            if (ev.process.exit_code !== undefined) info.exitCode = ev.process.exit_code;
          }
        }
        return;
      }
      case 'provmon.file': {
        if (!proc || !ev.file?.path || failed) return;
        // A pipe or unix connection: one node both ends meet at; writes flow into it, reads out of it, as for a file.
        const channel = ev.provmon?.channel;
        const file = channel ? this.channelNode(host, ev.file.path, channel.kind) : this.fileNode(host, ev.file.path, ev.file.inode);
        switch (action) {
          case 'open': {
            const access = openAccess(ev.provmon?.open?.flags);
            // The aggregated read/write arrives at close (or flush), possibly after the process already used the
            // data. The open is the earliest moment the flow can start, so it is a dependency of its own.
            // Opens the kernel folded (provmon.count > 1) span event.start..event.end: the last of them may come
            // after a write the first preceded, so forward tracking must see the whole span.
            const folded = (ev.provmon?.count ?? 1) > 1;
            if (access.read) step('read', file, proc, 'st', { opened: true }, '#r', folded);
            if (access.write) step('write', proc, file, 'st', { opened: true }, '#w', folded);
            return;
          }
          case 'creation':
            step('write', proc, file, 'st', { created: true });
            return;
          case 'read':
            step('read', file, proc, 'st', io ? { bytes: io.bytes } : {}, '', true);
            return;
          case 'write':
            step('write', proc, file, 'st', io ? { bytes: io.bytes } : {}, '', true);
            return;
          case 'deletion':
            step('delete', proc, file, 'st');
            return;
          case 'rename': {
            const from = ev.provmon?.file?.source_path;
            if (from) step('rename', this.fileNode(host, from, ev.file.inode), file, 'st', { by: proc });
            else step('write', proc, file, 'st', { created: true });
            return;
          }
          case 'permission_change':
            step('chmod', proc, file, 'st', ev.file.mode ? { mode: ev.file.mode } : {});
            return;
          default:
            return;
        }
      }
      case 'provmon.network': {
        if (!proc) return;
        const fdKey = ev.provmon?.fd !== undefined ? `${proc}|${ev.provmon.fd}` : undefined;
        switch (action) {
          case 'connection_attempted': {
            const peer = this.endpointNode(host, ev.destination);
            if (!peer) return;
            const reallyFailed = failed && !IN_PROGRESS.has(ev.error?.code ?? '');
            step('connect', proc, peer, reallyFailed ? 'st' : 'both', { establish: true, ...(reallyFailed ? { failed: true } : {}) });
            this.rememberSocket(proc, peer, 'connect', fdKey);
            if (!reallyFailed) this.stitch('connect', ev, host, proc, at, id, out);
            return;
          }
          case 'connection_accepted': {
            if (failed) return;
            const peer = this.endpointNode(host, ev.source);
            if (!peer) return;
            step('accept', peer, proc, 'both', { establish: true });
            this.rememberSocket(proc, peer, 'accept', fdKey);
            this.stitch('accept', ev, host, proc, at, id, out);
            return;
          }
          case 'send':
          case 'receive': {
            if (failed) return;
            const resolved = this.resolveSocket(proc, host, ev, fdKey);
            if (!resolved) return;
            const bytes = io?.bytes ?? ev.network?.bytes;
            const sending = action === 'send';
            const extra: Partial<Step> = bytes === undefined ? {} : sending ? { sent: bytes } : { received: bytes };
            if (resolved.kind === 'connect') step('connect', proc, resolved.peer, sending ? 'st' : 'ts', extra, '', true);
            else step('accept', resolved.peer, proc, sending ? 'ts' : 'st', extra, '', true);
            return;
          }
          case 'bind':
          case 'listen': {
            const local = ev.source?.ip ? ev.source : ev.destination;
            const info = this.process(proc);
            if (info && local?.ip) {
              const addr = `${local.ip}${local.port === undefined ? '' : `:${local.port}`}`;
              const tag = action === 'listen' ? `listen ${addr}` : `bind ${addr}`;
              if (!info.listening.includes(tag)) info.listening.push(tag);
            }
            return;
          }
          default:
            return;
        }
      }
      case 'provmon.dns': {
        const name = ev.dns?.question?.name;
        if (!name) return;
        for (const ip of ev.dns?.resolved_ip ?? []) this.learnDomain(ip, name);
        for (const a of ev.dns?.answers ?? []) if (a.type === 'A' || a.type === 'AAAA') this.learnDomain(a.data, name);
        return;
      }
      default:
        return;
    }
  }

  /** Client ends of connections whose other side has not been seen: the loader asks the source for them. */
  takeUnmatched(): ClientEnd[] {
    const out = [...this.unmatched.values()];
    this.unmatched.clear();
    return out;
  }

  /**
   * Joins a connect and an accept of the same connection: both documents name the client's end as source and the
   * server's as destination, so the 5-tuple is the key (loopback addresses only on the same host; other
   * addresses across hosts reporting to one store). The stitch is a step from the client process to the server
   * process, flowing both ways from the moment the connection exists.
   */
  private stitch(role: SocketKind, ev: EcsEvent, host: string, proc: NodeId, at: Instant, eventId: string, out: Step[]): void {
    const client = ev.source;
    const server = ev.destination;
    if (!client?.ip || client.port === undefined || !server?.ip || server.port === undefined) return;
    const cip = unmapIp(client.ip);
    const sip = unmapIp(server.ip);
    const local = isHostLocalIp(cip) || isHostLocalIp(sip);
    const key = `${ev.network?.transport ?? 'tcp'}|${cip}|${client.port}|${sip}|${server.port}${local ? `|${host}` : ''}`;
    const end: ConnectionEnd = { role, proc, at, iso: ev['@timestamp'], eventId, stitched: false };
    const ends = this.connections.get(key) ?? [];
    this.connections.set(key, ends);
    let best: ConnectionEnd | undefined;
    for (const other of ends) {
      if (other.role === role || other.stitched || Math.abs(other.at.t - at.t) > STITCH_WINDOW_MS) continue;
      if (!best || Math.abs(other.at.t - at.t) < Math.abs(best.at.t - at.t)) best = other;
    }
    ends.push(end);
    if (!best) {
      this.unmatched.set(`${cip}|${client.port}|${at.t}`, { ip: cip, port: client.port, t: at.t });
      return;
    }
    best.stitched = end.stitched = true;
    const [connect, accept] = role === 'connect' ? [end, best] : [best, end];
    const [first, last] = sortInstant(connect.at, accept.at) <= 0 ? [connect, accept] : [accept, connect];
    const s: Step = {
      id: `${connect.eventId}~${accept.eventId}`,
      eventId: accept.eventId,
      kind: 'connect',
      source: connect.proc,
      target: accept.proc,
      flow: 'both',
      start: first.at,
      end: last.at,
      startIso: first.iso,
      endIso: last.iso,
      stitched: true,
    };
    this.addStep(s);
    out.push(s);
  }

  private addStep(s: Step): void {
    this.steps.set(s.id, s);
    for (const n of flowTargets(s)) push(this.inIdx, n, s);
    for (const n of flowSources(s)) push(this.outIdx, n, s);
    if (s.kind === 'spawn') this.spawnOf.set(s.target, s);
  }

  private removeStep(s: Step): void {
    this.steps.delete(s.id);
    for (const n of flowTargets(s)) this.inIdx.set(n, (this.inIdx.get(n) ?? []).filter((x) => x !== s));
    for (const n of flowSources(s)) this.outIdx.set(n, (this.outIdx.get(n) ?? []).filter((x) => x !== s));
    if (this.spawnOf.get(s.target) === s) this.spawnOf.delete(s.target);
  }

  private observeProcess(ev: EcsEvent, host: string, at: Instant): NodeId {
    const p = ev.process!;
    const id = processNodeId(p.entity_id);
    const info = this.ensureProcess(p, host);
    if (p.parent?.entity_id) {
      info.parentEntityId ??= p.parent.entity_id;
      const parent = this.ensureProcess(p.parent, host);
      if (parent.images.length === 0 && (p.parent.executable || p.parent.name)) parent.images.push(image(p.parent, at));
    }
    if (ev.user?.id) info.userId = ev.user.id;
    const isExec = ev.event.action === 'exec' && ev.event.outcome !== 'failure';
    if (isExec || info.images.length === 0) {
      const last = info.images[info.images.length - 1];
      if (!last || last.executable !== p.executable || isExec) info.images.push(image(p, at));
      info.images.sort((a, b) => sortInstant(a.at, b.at));
    }
    // process.name of another thread would be that thread's name, not a rename of the process.
    const leader = p.thread?.id === undefined || p.thread.id === p.pid;
    if (p.name && leader) {
      const last = info.names[info.names.length - 1];
      if (!last || last.name !== p.name) info.names.push({ name: p.name, at });
    }
    return id;
  }

  private ensureProcess(p: EcsProcessRef, host: string): ProcessInfo {
    const id = processNodeId(p.entity_id);
    let info = this.process(id);
    if (!info) {
      info = { kind: 'process', id, entityId: p.entity_id, host, images: [], names: [], listening: [] };
      this.nodes.set(id, info);
    }
    if (p.pid !== undefined) info.pid ??= p.pid;
    if (p.start) info.start ??= p.start;
    return info;
  }

  private fileNode(host: string, path: string, inode?: string): NodeId {
    const id = fileNodeId(host, path);
    let info = this.nodes.get(id) as FileInfo | undefined;
    if (!info) {
      info = { kind: 'file', id, host, path };
      this.nodes.set(id, info);
    }
    if (inode) info.inode = inode;
    return id;
  }

  private channelNode(host: string, path: string, channel: ChannelInfo['channel']): NodeId {
    const id = channelNodeId(host, path);
    if (!this.nodes.has(id)) this.nodes.set(id, { kind: 'channel', id, host, path, channel });
    return id;
  }

  private endpointNode(host: string, ep: EcsEndpoint | undefined): NodeId | undefined {
    if (!ep?.ip) return undefined;
    const id = endpointNodeId(host, ep.ip, ep.port);
    let info = this.nodes.get(id) as EndpointInfo | undefined;
    if (!info) {
      info = { kind: 'endpoint', id, ip: ep.ip };
      if (ep.port !== undefined) info.port = ep.port;
      if (id.startsWith(`endpoint:${host}:`)) info.host = host;
      const known = this.domains.get(ep.ip);
      if (known) info.domain = known;
      this.nodes.set(id, info);
      push(this.endpointsByIp, ep.ip, info);
    }
    if (ep.domain) {
      info.domain = ep.domain;
      this.domains.set(ep.ip, ep.domain);
    }
    return id;
  }

  private learnDomain(ip: string, name: string): void {
    if (!this.domains.has(ip)) this.domains.set(ip, name);
    for (const n of this.endpointsByIp.get(ip) ?? []) n.domain ??= name;
  }

  private rememberSocket(proc: NodeId, peer: NodeId, kind: SocketKind, fdKey: string | undefined): void {
    if (fdKey) this.sockets.set(fdKey, { kind, peer });
    let m = this.peers.get(proc);
    if (!m) this.peers.set(proc, (m = new Map()));
    m.set(peer, kind);
  }

  /**
   * Which connection a send/receive belongs to. ecs.ts does not say which of source/destination is the peer on
   * send/receive, so: the fd seen at connect/accept first; then an address the process is already known to talk
   * to; otherwise destination as the peer (an unconnected sendto).
   */
  private resolveSocket(proc: NodeId, host: string, ev: EcsEvent, fdKey: string | undefined): { kind: SocketKind; peer: NodeId } | undefined {
    if (fdKey) {
      const known = this.sockets.get(fdKey);
      if (known) return known;
    }
    const peers = this.peers.get(proc);
    for (const ep of [ev.destination, ev.source]) {
      if (!ep?.ip) continue;
      const id = endpointNodeId(host, ep.ip, ep.port);
      const kind = peers?.get(id);
      if (kind) return { kind, peer: id };
    }
    const peer = this.endpointNode(host, ev.destination) ?? this.endpointNode(host, ev.source);
    return peer ? { kind: 'connect', peer } : undefined;
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function image(p: EcsProcessRef, at: Instant) {
  return {
    at,
    ...(p.executable ? { executable: p.executable } : {}),
    ...(p.name ? { name: p.name } : {}),
    ...(p.args ? { args: p.args } : {}),
  };
}

/** The image a process was running at `at` (its first known one when `at` is before all of them). */
export function imageAt(p: ProcessInfo, at: Instant): ProcessImage | undefined {
  let found: ProcessImage | undefined;
  for (const img of p.images) {
    if (sortInstant(img.at, at) <= 0) found = img;
    else break;
  }
  return found ?? p.images[0];
}

/** The document's id; documents are supposed to carry one, but a stable fallback keeps dedup working. */
export function eventId(ev: EcsEvent): string {
  return ev.event.id || `${ev.host?.id}|${ev['@timestamp']}|${ev.event.sequence ?? ''}|${ev.event.action}|${ev.process?.entity_id ?? ''}`;
}

/** What an open() lets the process do with the content, from its flags (O_RDONLY is 0: the absence of write flags). */
export function openAccess(flags: string[] | undefined): { read: boolean; write: boolean } {
  if (!flags || flags.length === 0) return { read: true, write: false };
  const f = new Set(flags.map((x) => (x.toUpperCase().startsWith('O_') ? x.toUpperCase() : `O_${x.toUpperCase()}`)));
  // O_PATH gives no access to content; a directory open lists names, which is not the content we track.
  if (f.has('O_PATH') || f.has('O_DIRECTORY')) return { read: false, write: false };
  const rdwr = f.has('O_RDWR');
  const wronly = f.has('O_WRONLY');
  const write = rdwr || wronly || f.has('O_TRUNC') || f.has('O_APPEND') || f.has('O_CREAT');
  return { read: rdwr || !wronly, write };
}

/** Convenience for tests and small inputs: one store holding all of `events`. */
export function buildStore(events: readonly EcsEvent[]): StepStore {
  const store = new StepStore();
  store.ingest(events);
  return store;
}
