/**
 * Provenance graph engine: public entry points.
 *
 *   traceGraph(source, { poi, direction, from, to, maxDepth, maxNodes, reduce }) → ProvenanceGraph
 *
 * track (fetch incrementally, walk with causal time bounds) → rules (flags) → attack path (what reduction must
 * keep) → reduce (units, noise, CPR) → nodes/edges/stats → summary. README.md documents the algorithms.
 */
import type { EcsEvent } from '../ecs.ts';
import { imageAt, type StepStore } from './build.ts';
import type { Flag, GraphEdge, GraphNode, NodeId, ProvenanceGraph, Step, TraceDirection } from './model.ts';
import { basename } from './paths.ts';
import { parsePoi, poiToString, type Poi } from './poi.ts';
import { attackPath } from './reduce/protect.ts';
import { reduceGraph, type ReduceOptions, type Reduced } from './reduce/index.ts';
import { evaluateRules, type Finding } from './rules.ts';
import { MemorySource, type EventSource } from './source.ts';
import { attackSummary } from './summary.ts';
import { parseTimestamp, sortInstant } from './time.ts';
import { track, tracedGraph, type TrackOptions, type TrackResult } from './track.ts';

export * from './model.ts';
export { StepStore, buildStore, openAccess, imageAt } from './build.ts';
export { MemorySource, matchesQuery, sortKey, compareSortKeys, DEFAULT_DATASETS, type EventQuery, type EventSource, type EndpointSelector, type SortKey } from './source.ts';
export { parsePoi, poiToString, parseEndpoint, type Poi } from './poi.ts';
export { EsSearchSource, buildEventQuery, isIpLiteral, DEFAULT_INDEX, EVENT_SORT, type PitSearch, type PitSearchHit, type EsSourceOptions } from './es-source.ts';
export { track, tracedGraph, Walker, Loader, TRACK_DEFAULTS, type TrackOptions, type TrackResult, type Seed, type Window } from './track.ts';
export { evaluateRules, credentialClass, persistenceClass, type Finding, type RuleId } from './rules.ts';
export { reduceGraph, type ReduceOptions } from './reduce/index.ts';
export { mergeRuns, type CprMode } from './reduce/cpr.ts';
export { collapseNoise, noiseClass, NOISE_DEFAULTS, type NoiseOptions } from './reduce/noise.ts';
export { partition, unitIndex, UNIT_DEFAULTS, type UnitOptions } from './reduce/units.ts';
export { attackPath } from './reduce/protect.ts';
export { attackSummary } from './summary.ts';
export { toDot } from './dot.ts';
export { EventFactory, syntheticWorkload, prng, type ProcRef, type Workload, type WorkloadOptions } from './synthetic.ts';

export interface GraphOptions extends Omit<TrackOptions, 'direction'> {
  poi: Poi | string;
  /** default backward */
  direction?: TraceDirection;
  /** default true (all reductions, CPR in causal mode); false = one edge per observed step. */
  reduce?: boolean | ReduceOptions;
  /** default true */
  rules?: boolean;
  /** most summary lines, default 100 */
  summaryLimit?: number;
}

export async function traceGraph(source: EventSource, options: GraphOptions): Promise<ProvenanceGraph> {
  const poi = typeof options.poi === 'string' ? parsePoi(options.poi) : options.poi;
  const t = await track(source, poi, { ...options, direction: options.direction ?? 'backward' });
  return assembleGraph(t, options);
}

/** For tests and small captures: trace over an in-memory array. */
export function graphFromEvents(events: readonly EcsEvent[], options: GraphOptions): Promise<ProvenanceGraph> {
  return traceGraph(new MemorySource(events), options);
}

/** Everything after tracking; synchronous and pure, so a caller holding a TrackResult can re-reduce cheaply. */
export function assembleGraph(t: TrackResult, options: Pick<GraphOptions, 'reduce' | 'rules' | 'summaryLimit' | 'direction'>): ProvenanceGraph {
  const traced = tracedGraph(t);
  const findings = options.rules === false ? [] : evaluateRules(t.store);
  // A finding is shown when it concerns the traced graph: one of its nodes is in it, and its evidence is too
  // (node-only findings, like a renamed process, need no step).
  const inView = findings.filter(
    (f) => f.nodes.some((n) => traced.nodes.has(n)) && (f.steps.length === 0 || f.steps.some((s) => traced.steps.has(s)) || f.related.some((s) => traced.steps.has(s))),
  );
  const relevant = new Set<NodeId>(t.poiNodes);
  const evidence = new Set<string>();
  for (const f of inView) {
    if (f.severity === 'low') continue;
    for (const n of f.nodes) if (traced.nodes.has(n)) relevant.add(n);
    for (const s of [...f.steps, ...f.related]) if (traced.steps.has(s)) evidence.add(s);
  }
  const protectedSteps = attackPath(t.walkers, t.poiSteps, t.poiNodes, relevant, evidence);
  const reduceOpt = options.reduce === false ? false : options.reduce === true || options.reduce === undefined ? {} : options.reduce;
  const reduced = reduceGraph(t, traced, protectedSteps, relevant, reduceOpt);

  const stepFlags = new Map<string, Flag[]>();
  const nodeFlags = new Map<NodeId, Flag[]>();
  for (const f of inView) {
    const flag = toFlag(f);
    for (const s of f.steps) addFlag(stepFlags, s, flag);
    for (const n of f.nodes) addFlag(nodeFlags, n, flag);
  }

  const edges = buildEdges(reduced, stepFlags, protectedSteps);
  const attackNodes = new Set<NodeId>(relevant);
  for (const e of edges) {
    if (!e.attack_path) continue;
    attackNodes.add(e.source);
    attackNodes.add(e.target);
  }
  const nodes = buildNodes(t.store, reduced, nodeFlags, new Set(t.poiNodes), attackNodes);
  const nameAt = (n: GraphNode, iso: string) => processName(t.store, n, iso);
  const summary = attackSummary(nodes, edges, nameAt, { limit: options.summaryLimit ?? 100 });

  return {
    poi: poiToString(t.poi),
    direction: options.direction ?? 'backward',
    nodes,
    edges,
    stats: {
      events: t.store.eventCount,
      nodes: nodes.length,
      edges: edges.length,
      nodes_before: traced.nodes.size,
      edges_before: traced.steps.size,
      ...(reduced.stats ? { reduction: reduced.stats } : {}),
    },
    summary,
    truncated: t.truncated,
  };
}

function toFlag(f: Finding): Flag {
  return {
    rule: f.rule,
    severity: f.severity,
    ...(f.technique ? { technique: f.technique } : {}),
    ...(f.tactic ? { tactic: f.tactic } : {}),
    reason: f.reason,
  };
}

function addFlag(m: Map<string, Flag[]>, key: string, flag: Flag): void {
  const list = m.get(key);
  if (!list) m.set(key, [flag]);
  else if (!list.some((x) => x.rule === flag.rule && x.reason === flag.reason)) list.push(flag);
}

function buildEdges(reduced: Reduced, stepFlags: Map<string, Flag[]>, protectedSteps: ReadonlySet<string>): GraphEdge[] {
  const runs = reduced.runs.map((run) => {
    let first = run[0]!;
    let last = run[0]!;
    for (const s of run) {
      if (sortInstant(s.start, first.start) < 0) first = s;
      if (sortInstant(s.end, last.end) > 0) last = s;
    }
    return { run, first, last };
  });
  runs.sort(
    (a, b) =>
      sortInstant(a.first.start, b.first.start) ||
      cmp(a.first.kind, b.first.kind) ||
      cmp(a.first.source, b.first.source) ||
      cmp(a.first.target, b.first.target) ||
      cmp(a.first.id, b.first.id),
  );
  return runs.map(({ run, first, last }, i) => {
    const e: GraphEdge = {
      id: `e${i + 1}`,
      source: first.source,
      target: first.target,
      kind: first.kind,
      first: first.startIso,
      last: last.endIso,
      count: run.length,
      event_ids: [...new Set(run.map((s) => s.eventId))].slice(0, 5),
    };
    const sum = (f: (s: Step) => number | undefined) => run.reduce((n, s) => n + (f(s) ?? 0), 0);
    const bytes = sum((s) => s.bytes);
    const sent = sum((s) => s.sent);
    const received = sum((s) => s.received);
    if (bytes) e.bytes = bytes;
    if (sent) e.bytes_sent = sent;
    if (received) e.bytes_received = received;
    if (first.by) e.by = first.by;
    const mode = [...run].reverse().find((s) => s.mode)?.mode;
    if (mode) e.mode = mode;
    if (run.some((s) => s.script)) e.script = true;
    if (run.some((s) => s.stitched)) e.stitched = true;
    const flags: Flag[] = [];
    for (const s of run) for (const f of stepFlags.get(s.id) ?? []) if (!flags.some((x) => x.rule === f.rule && x.reason === f.reason)) flags.push(f);
    if (flags.length) e.flags = flags;
    if (run.some((s) => protectedSteps.has(s.id))) e.attack_path = true;
    return e;
  });
}

function buildNodes(store: StepStore, reduced: Reduced, nodeFlags: Map<NodeId, Flag[]>, poi: ReadonlySet<NodeId>, attack: ReadonlySet<NodeId>): GraphNode[] {
  const out: GraphNode[] = [];
  for (const id of [...reduced.nodes].sort()) {
    const summary = reduced.summaries.get(id);
    let node: GraphNode;
    if (summary) {
      node = { id, kind: summary.kind, label: summary.label, summary: summary.info };
    } else {
      const info = store.node(id);
      if (!info) {
        node = { id, kind: id.startsWith('process:') ? 'process' : id.startsWith('endpoint:') ? 'endpoint' : id.startsWith('channel:') ? 'channel' : 'file', label: id };
      } else if (info.kind === 'process') {
        const img = info.images[info.images.length - 1];
        const name = img?.name ?? (img?.executable ? basename(img.executable) : undefined);
        node = { id, kind: 'process', label: `${name ?? 'process'}[${info.pid ?? '?'}]`, entity_id: info.entityId, host: info.host };
        if (info.pid !== undefined) node.pid = info.pid;
        if (name) node.name = name;
        if (img?.executable) node.executable = img.executable;
        if (img?.args) node.args = img.args;
        if (info.start) node.start = info.start;
        if (info.end) node.end = info.end;
        const units = reduced.units.get(id);
        if (units) node.units = units;
      } else if (info.kind === 'file') {
        node = { id, kind: 'file', label: info.path, path: info.path, host: info.host };
        if (info.inode) node.inode = info.inode;
      } else if (info.kind === 'channel') {
        node = { id, kind: 'channel', label: info.path, path: info.path, channel: info.channel, host: info.host };
      } else {
        const addr = `${info.ip.includes(':') ? `[${info.ip}]` : info.ip}${info.port === undefined ? '' : `:${info.port}`}`;
        const domain = info.domain ?? store.domainOf(info.ip);
        node = { id, kind: 'endpoint', label: domain ? `${domain} (${addr})` : addr, ip: info.ip };
        if (info.port !== undefined) node.port = info.port;
        if (domain) node.domain = domain;
        if (info.host) node.host = info.host;
      }
    }
    const flags = nodeFlags.get(id);
    if (flags?.length) node.flags = flags;
    if (poi.has(id)) node.poi = true;
    if (attack.has(id)) node.attack_path = true;
    out.push(node);
  }
  return out;
}

/** `name[pid]` with the name of the program the process was running at that time (bash before it exec'd curl). */
function processName(store: StepStore, node: GraphNode, iso: string): string {
  const info = store.process(node.id);
  if (!info) return node.label;
  // The end of that millisecond on the process's host: an exec at that time already counts.
  const img = imageAt(info, { t: parseTimestamp(iso), host: info.host, seq: Number.POSITIVE_INFINITY });
  const name = img?.name ?? (img?.executable ? basename(img.executable) : undefined) ?? node.name ?? 'process';
  return `${name}[${info.pid ?? '?'}]`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
