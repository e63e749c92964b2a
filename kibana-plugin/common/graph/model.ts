/**
 * The provenance graph's vocabulary: node and edge kinds, the internal atomic "step" (one dependency observed at
 * one time), node identities, and the output document. Pure types and id helpers; no behaviour worth testing.
 */
import type { Instant } from './time.ts';

export type NodeKind = 'process' | 'file' | 'channel' | 'endpoint';

export const EDGE_KINDS = ['spawn', 'exec', 'read', 'write', 'connect', 'accept', 'delete', 'rename', 'chmod'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

export type Direction = 'backward' | 'forward';
export type TraceDirection = Direction | 'both';

/** Node ids are strings so that they can be map keys, DOT ids and cytoscape ids alike. */
export type NodeId = string;

/**
 * Processes are global (entity ids are cluster-unique). File paths only mean something on one host, so file
 * ids carry the host; so do loopback and unspecified addresses. Other IP endpoints are global.
 */
export function processNodeId(entityId: string): NodeId {
  return `process:${entityId}`;
}

export function fileNodeId(hostId: string, path: string): NodeId {
  return `file:${hostId}:${path}`;
}

/**
 * A pipe or unix-socket connection (provmon.channel): host-local, named by the path the sensor gives it
 * (pipe:[inode], unix-socket:[id]).
 */
export function channelNodeId(hostId: string, path: string): NodeId {
  return `channel:${hostId}:${path}`;
}

/** ::ffff:a.b.c.d (an IPv4 peer of a dual-stack socket) is the IPv4 address a.b.c.d on the wire. */
export function unmapIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function isHostLocalIp(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip === '0.0.0.0' || ip === '::' || ip.startsWith('::ffff:127.');
}

export function endpointNodeId(hostId: string, ip: string, port?: number): NodeId {
  const addr = ip.includes(':') ? `[${ip}]` : ip;
  const hostPart = isHostLocalIp(ip) ? `${hostId}:` : '';
  return `endpoint:${hostPart}${addr}${port === undefined ? '' : `:${port}`}`;
}

/**
 * Direction of information flow along a step, relative to its source → target drawing direction:
 * `st` source to target, `ts` target to source (a `send` on an accepted socket), `both` (an established
 * connection: either side may talk).
 */
export type Flow = 'st' | 'ts' | 'both';

/** One observed dependency: one event (or one part of one event). Edges are runs of steps. */
export interface Step {
  id: string;
  eventId: string;
  kind: EdgeKind;
  source: NodeId;
  target: NodeId;
  flow: Flow;
  /** When the dependency began and ended (equal for point events; the io window for aggregated reads/writes). */
  start: Instant;
  end: Instant;
  startIso: string;
  endIso: string;
  /** rename: the process that renamed (it is a cause of the new name, like the old path). */
  by?: NodeId;
  /** read/write io bytes (aggregated events). */
  bytes?: number;
  /** socket bytes, from the process's point of view. */
  sent?: number;
  received?: number;
  /** chmod: new octal mode. */
  mode?: string;
  /** exec of a script through its interpreter (the edge comes from the script, not the interpreter binary). */
  script?: boolean;
  /** derived from an open()'s intent rather than aggregated io (flags tell read or write). */
  opened?: boolean;
  /** creat/O_CREAT that created the file. */
  created?: boolean;
  /** connect/accept themselves (as opposed to send/receive on the socket): they mark unit boundaries. */
  establish?: boolean;
  /** connect that failed. */
  failed?: boolean;
  /** spawn implied by an exec or a /proc scan (no fork event seen for the child). */
  implied?: boolean;
  /** a client's connect joined to the server's accept of the same connection (source client, target server). */
  stitched?: boolean;
}

/** Nodes that cause what happens at the flow's far end (the rename actor counts as a cause of the new name). */
export function flowSources(s: Step): NodeId[] {
  switch (s.flow) {
    case 'st':
      return s.by ? [s.source, s.by] : [s.source];
    case 'ts':
      return [s.target];
    case 'both':
      return [s.source, s.target];
  }
}

export function flowTargets(s: Step): NodeId[] {
  switch (s.flow) {
    case 'st':
      return [s.target];
    case 'ts':
      return [s.source];
    case 'both':
      return [s.source, s.target];
  }
}

export type Severity = 'low' | 'medium' | 'high';

/** A rule's verdict on a node or an edge. */
export interface Flag {
  rule: string;
  severity: Severity;
  /** MITRE ATT&CK technique id, where one is clear. */
  technique?: string;
  /** MITRE ATT&CK tactic id, when the technique is not clear but the tactic is. */
  tactic?: string;
  reason: string;
}

export interface ProcessImage {
  at: Instant;
  executable?: string;
  name?: string;
  args?: string[];
}

export interface ProcessInfo {
  kind: 'process';
  id: NodeId;
  entityId: string;
  host: string;
  pid?: number;
  parentEntityId?: string;
  start?: string;
  end?: string;
  exitCode?: number;
  userId?: string;
  /** Successive program images (fork inherits the parent's, each exec adds one), in time order. */
  images: ProcessImage[];
  /** process.name values seen on the leader thread, with the first time each was seen (runtime renames). */
  names: { name: string; at: Instant }[];
  /** local addresses the process bound/listened on. */
  listening: string[];
}

export interface FileInfo {
  kind: 'file';
  id: NodeId;
  host: string;
  path: string;
  inode?: string;
}

/** A pipe or a unix-socket connection: what one end writes, the other reads. */
export interface ChannelInfo {
  kind: 'channel';
  id: NodeId;
  host: string;
  /** pipe:[inode] or unix-socket:[id], the file.path of its documents */
  path: string;
  channel: 'pipe' | 'unix_socket';
}

export interface EndpointInfo {
  kind: 'endpoint';
  id: NodeId;
  host?: string;
  ip: string;
  port?: number;
  domain?: string;
}

export type NodeInfo = ProcessInfo | FileInfo | ChannelInfo | EndpointInfo;

/** A collapsed group of files or endpoints (noise class or fan-out). Rendered with kind 'file' or 'endpoint'. */
export interface SummaryInfo {
  class: string;
  members: number;
  /** a few member paths/addresses, sorted, so the analyst can see what was folded. */
  sample: string[];
  /** common directory of a fan-out group. */
  prefix?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Output document
// ---------------------------------------------------------------------------------------------------------------

export interface GraphNode {
  id: NodeId;
  kind: NodeKind;
  label: string;
  flags?: Flag[];
  /** the point of interest (one of them, for an ip without port). */
  poi?: boolean;
  /** on a path between a flagged node and the point of interest (kept whole by reduction). */
  attack_path?: boolean;
  host?: string;
  // process
  entity_id?: string;
  pid?: number;
  name?: string;
  executable?: string;
  args?: string[];
  start?: string;
  end?: string;
  // file, channel
  path?: string;
  /** channel: pipe or unix_socket */
  channel?: 'pipe' | 'unix_socket';
  inode?: string;
  // endpoint
  ip?: string;
  port?: number;
  domain?: string;
  /** set on summary nodes */
  summary?: SummaryInfo;
  /** unit partitioning (BEEP approximation) kept this many of the process's units. */
  units?: { total: number; kept: number; by: 'accept' | 'quiet' };
}

export interface GraphEdge {
  id: string;
  source: NodeId;
  target: NodeId;
  kind: EdgeKind;
  first: string;
  last: string;
  /** number of events (steps) merged into this edge. */
  count: number;
  flags?: Flag[];
  attack_path?: boolean;
  /** read/write bytes */
  bytes?: number;
  bytes_sent?: number;
  bytes_received?: number;
  /** rename: the renaming process's node id. */
  by?: NodeId;
  /** chmod: last mode set. */
  mode?: string;
  script?: boolean;
  /** connect from a client process straight to the server process that accepted the connection. */
  stitched?: boolean;
  /** up to five ids of the events behind the edge, for drill-down. */
  event_ids: string[];
}

export interface Truncated {
  depth?: boolean;
  nodes?: boolean;
  window?: boolean;
  /** the event budget (maxEvents) stopped fetching. */
  events?: boolean;
}

export interface ReductionStats {
  /** steps removed because unit partitioning made them irrelevant. */
  units_pruned_edges: number;
  units_pruned_nodes: number;
  /** nodes folded into noise-class summary nodes and fan-out summaries. */
  noise_collapsed_nodes: number;
  fanout_collapsed_nodes: number;
  /** steps merged into an earlier step of the same edge by the CPR rule. */
  cpr_merged_edges: number;
}

export interface Stats {
  /** distinct events read from the source. */
  events: number;
  nodes: number;
  edges: number;
  /** the tracked graph before reduction: every node reached, one edge per observed step. */
  nodes_before: number;
  edges_before: number;
  reduction?: ReductionStats;
}

export interface SummaryLine {
  at: string;
  text: string;
  edge: string;
  techniques?: string[];
}

export interface ProvenanceGraph {
  poi: string;
  direction: TraceDirection;
  nodes: GraphNode[];
  edges: GraphEdge[];
  stats: Stats;
  summary: SummaryLine[];
  truncated: Truncated;
}
