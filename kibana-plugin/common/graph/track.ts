/**
 * Causal tracking from a point of interest.
 *
 * Backward: a step into node N is a dependency of N's state at time B only if it started before B (or cannot be
 * ordered against B); walking to its cause C, C's relevant state is the one before min(B, end of the step) —
 * so the time bound tightens as the walk goes back. Forward is the mirror image: a step out of N matters if it
 * ended after B, and the effect's bound becomes max(B, start of the step).
 *
 * The walk is level-synchronous so that a source can be asked for one level's frontier in one query: the
 * `Walker` says which nodes it is about to expand (`pending()`), the `Loader` fetches the events those nodes
 * need (only the time range the bound makes relevant), then the walker expands the level. The same walker runs
 * purely in memory for unit partitioning (reduce/units.ts), over steps already fetched.
 *
 * Remote endpoints and pseudo-files are terminal: they appear in the graph but the walk does not go through
 * them. Through 8.8.8.8:53 every process that ever resolved a name would be "related"; through /dev/null every
 * process that wrote to it would be a cause of every process that read from it. A point of interest itself is
 * always expanded.
 */
import { STITCH_WINDOW_MS, StepStore } from './build.ts';
import { flowSources, flowTargets, type Direction, type NodeId, type Step, type TraceDirection, type Truncated } from './model.ts';
import { isPseudoPath } from './paths.ts';
import type { Poi } from './poi.ts';
import { DEFAULT_DATASETS, sortKey, type EndpointSelector, type EventQuery, type EventSource } from './source.ts';
import { cmpInstant, isoBound, maxInstant, mayFollow, mayPrecede, minInstant, NEG_INF, parseTimestamp, POS_INF, type Instant } from './time.ts';

export interface Window {
  from?: number;
  to?: number;
}

export interface Seed {
  node: NodeId;
  bound: Instant;
  /** false: part of the graph but not walked through (an endpoint named by an event point of interest). */
  expand?: boolean;
}

/** Decides, for a process being expanded, whether a step belongs to the unit its bound falls in (BEEP). */
export interface UnitFilter {
  allows(node: NodeId, step: Step, bound: Instant, direction: Direction): boolean;
}

export interface WalkOptions {
  maxDepth: number;
  maxNodes: number;
  window: Window;
  /** restricts the walk to these steps (the in-memory re-walk stays inside the tracked graph). */
  allowStep?: (s: Step) => boolean;
  unitFilter?: UnitFilter;
  /** walk through /proc, /sys and /dev too. */
  expandPseudo?: boolean;
}

/** One traversal of a step: `cause` → `effect` in the direction information flowed. */
export interface Link {
  step: Step;
  cause: NodeId;
  effect: NodeId;
}

export interface Visit {
  bound: Instant;
  depth: number;
}

export class Walker {
  readonly visits = new Map<NodeId, Visit>();
  readonly links = new Map<string, Link>();
  readonly truncated = { depth: false, nodes: false };
  private frontier = new Set<NodeId>();
  private readonly seedNodes = new Set<NodeId>();

  constructor(
    private readonly store: StepStore,
    readonly direction: Direction,
    readonly seeds: readonly Seed[],
    private readonly opts: WalkOptions,
  ) {
    for (const s of seeds) {
      this.visits.set(s.node, { bound: s.bound, depth: 0 });
      if (s.expand !== false) {
        this.seedNodes.add(s.node);
        this.frontier.add(s.node);
      }
    }
  }

  get done(): boolean {
    return this.frontier.size === 0;
  }

  /** The nodes the next `expandLevel()` will expand, with their bounds (what the loader must fetch). */
  pending(): { node: NodeId; bound: Instant }[] {
    return [...this.frontier].map((node) => ({ node, bound: this.visits.get(node)!.bound }));
  }

  /** Steps traversed so far. */
  steps(): Step[] {
    const seen = new Map<string, Step>();
    for (const l of this.links.values()) seen.set(l.step.id, l.step);
    return [...seen.values()];
  }

  run(): this {
    while (!this.done) this.expandLevel();
    return this;
  }

  expandLevel(): void {
    const next = new Set<NodeId>();
    const backward = this.direction === 'backward';
    const { window, allowStep, unitFilter, maxDepth, maxNodes } = this.opts;
    // Sorted so that, when the node budget bites, which nodes made it in does not depend on map order.
    for (const node of [...this.frontier].sort()) {
      const v = this.visits.get(node)!;
      const candidates = backward ? this.store.incoming(node) : this.store.outgoing(node);
      for (const s of candidates) {
        if (window.from !== undefined && s.end.t < window.from) continue;
        if (window.to !== undefined && s.start.t > window.to) continue;
        if (allowStep && !allowStep(s)) continue;
        if (backward ? !mayPrecede(s.start, v.bound) : !mayFollow(s.end, v.bound)) continue;
        if (unitFilter && !unitFilter.allows(node, s, v.bound, this.direction)) continue;
        const bound = backward ? minInstant(v.bound, s.end) : maxInstant(v.bound, s.start);
        const depth = v.depth + 1;
        for (const other of backward ? flowSources(s) : flowTargets(s)) {
          if (other === node) continue;
          const existing = this.visits.get(other);
          if (!existing) {
            if (depth > maxDepth) {
              this.truncated.depth = true;
              continue;
            }
            if (this.visits.size >= maxNodes) {
              this.truncated.nodes = true;
              continue;
            }
            this.visits.set(other, { bound, depth });
            this.link(s, node, other);
            if (this.expandable(other)) next.add(other);
            continue;
          }
          this.link(s, node, other);
          const later = backward ? cmpInstant(bound, existing.bound) > 0 : cmpInstant(bound, existing.bound) < 0;
          const shallower = depth < existing.depth;
          if (!later && !shallower) continue;
          if (depth > maxDepth) {
            // Reached again with more to explain, but too deep to explain it.
            if (later) this.truncated.depth = true;
            continue;
          }
          if (later) existing.bound = bound;
          if (shallower) existing.depth = depth;
          if (this.expandable(other)) next.add(other);
        }
      }
    }
    this.frontier = next;
  }

  private link(step: Step, expanded: NodeId, reached: NodeId): void {
    const backward = this.direction === 'backward';
    const cause = backward ? reached : expanded;
    const effect = backward ? expanded : reached;
    const key = `${step.id}|${cause}|${effect}`;
    if (!this.links.has(key)) this.links.set(key, { step, cause, effect });
  }

  /** Whether the walk goes through this node (seeds always; endpoints and pseudo-files never). */
  expandable(node: NodeId): boolean {
    return this.seedNodes.has(node) || isExpandable(this.store, node, this.opts);
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Loading from a source
// -----------------------------------------------------------------------------------------------------------------

export interface LoaderOptions {
  window: Window;
  pageSize: number;
  maxEvents: number;
  /**
   * How long after its first read/write an aggregated io event may be emitted (the sensor's flush interval).
   * A backward query for a bound B reaches B + this, so a read that began before B but was reported after it
   * is still found.
   */
  ioFlushMs: number;
}

export class Loader {
  private readonly loaded = new Map<NodeId, { lo: number; hi: number }>();
  /** events handed out by the source (with duplicates across overlapping queries). */
  fetched = 0;
  queries = 0;
  truncatedEvents = false;

  constructor(
    readonly source: EventSource,
    readonly store: StepStore,
    private readonly opts: LoaderOptions,
  ) {}

  /** Fetches what the walker's next level needs, in one paged query. */
  async prepare(walker: Walker): Promise<void> {
    const { window, ioFlushMs } = this.opts;
    const from = window.from ?? -Infinity;
    const to = window.to ?? Infinity;
    // Backward: an aggregated read/write is stamped with its last call, up to a flush interval after it began.
    // Forward from a file: a folded open is stamped with its first open and lasts up to a flush interval longer.
    const needs = walker.pending().map(({ node, bound }) =>
      walker.direction === 'backward'
        ? { node, lo: from, hi: Math.min(to, bound.t + ioFlushMs) }
        : { node, lo: Math.max(from, node.startsWith('file:') ? bound.t - ioFlushMs : bound.t), hi: to },
    );
    await this.ensure(needs, walker.direction === 'backward' ? 'modify' : 'use');
    await this.findOtherEnds();
  }

  /**
   * The other side of the connections just loaded: one query for the client ends (ip:port) of connects and
   * accepts not stitched yet, so a server's accept finds the client's connect (and the reverse), on this host or
   * another one in the store. The store stitches what comes back (StepStore.stitch).
   */
  async findOtherEnds(): Promise<void> {
    const ends = this.store.takeUnmatched();
    if (ends.length === 0) return;
    const lo = Math.max(this.opts.window.from ?? -Infinity, Math.min(...ends.map((e) => e.t)) - STITCH_WINDOW_MS);
    const hi = Math.min(this.opts.window.to ?? Infinity, Math.max(...ends.map((e) => e.t)) + STITCH_WINDOW_MS);
    // an IPv4 end may appear v4-mapped in the other side's document (a dual-stack socket): ask for both forms
    const forms = ends.flatMap((e) => (e.ip.includes('.') ? [e, { ...e, ip: `::ffff:${e.ip}` }] : [e]));
    const endpoints = [...new Map(forms.map((e) => [`${e.ip}|${e.port}`, { ip: e.ip, port: e.port }])).values()];
    const q: EventQuery = { endpoints, datasets: ['network'] };
    if (Number.isFinite(lo)) q.from = isoBound(lo, 'floor');
    if (Number.isFinite(hi)) q.to = isoBound(hi, 'ceil');
    await this.fetchAll(q);
  }

  /**
   * Makes sure the store holds the events of these nodes over these ranges. `access` narrows file nodes to one
   * side (EventQuery.pathAccess); what was loaded is remembered per side, since a `modify` load says nothing
   * about the reads.
   */
  async ensure(needs: { node: NodeId; lo: number; hi: number }[], access?: 'modify' | 'use'): Promise<void> {
    const missing: { node: NodeId; lo: number; hi: number }[] = [];
    const key = (node: NodeId) => (access && node.startsWith('file:') ? `${access}|${node}` : node);
    for (const n of needs) {
      const have = this.loaded.get(key(n.node)) ?? (access ? this.loaded.get(n.node) : undefined);
      if (!have) {
        missing.push(n);
        continue;
      }
      if (n.lo < have.lo) missing.push({ node: n.node, lo: n.lo, hi: Math.min(n.hi, have.lo) });
      if (n.hi > have.hi) missing.push({ node: n.node, lo: Math.max(n.lo, have.hi), hi: n.hi });
    }
    if (missing.length === 0) return;
    const lo = Math.min(...missing.map((m) => m.lo));
    const hi = Math.max(...missing.map((m) => m.hi));
    const nodes = [...new Set(missing.map((m) => m.node))];
    const q = selectorsFor(this.store, nodes);
    if (access) q.pathAccess = access;
    if (Number.isFinite(lo)) q.from = isoBound(lo, 'floor');
    if (Number.isFinite(hi)) q.to = isoBound(hi, 'ceil');
    await this.fetchAll(q);
    this.markLoaded(nodes.map(key), lo, hi);
  }

  /** Records that the store holds every event of these nodes (keys) in [lo, hi]. */
  markLoaded(keys: readonly string[], lo: number, hi: number): void {
    for (const k of keys) {
      const have = this.loaded.get(k);
      this.loaded.set(k, have && have.lo <= hi && lo <= have.hi ? { lo: Math.min(lo, have.lo), hi: Math.max(hi, have.hi) } : { lo, hi });
    }
  }

  /** Pages through a query (search_after style) into the store, within the event budget. */
  async fetchAll(q: EventQuery): Promise<void> {
    let after = q.after;
    for (;;) {
      const room = this.opts.maxEvents - this.fetched;
      if (room <= 0) {
        this.truncatedEvents = true;
        return;
      }
      const limit = Math.min(this.opts.pageSize, room);
      this.queries++;
      const page = await this.source.fetch({ ...q, datasets: q.datasets ?? DEFAULT_DATASETS, limit, ...(after ? { after } : {}) });
      this.fetched += page.length;
      this.store.ingest(page);
      if (page.length < limit) return;
      if (limit < this.opts.pageSize) {
        this.truncatedEvents = true;
        return;
      }
      after = sortKey(page[page.length - 1]!);
    }
  }
}

/** The query selectors that return the events touching these nodes. */
export function selectorsFor(store: StepStore, nodes: readonly NodeId[]): EventQuery {
  const entityIds = new Set<string>();
  const paths = new Set<string>();
  const endpoints = new Map<string, EndpointSelector>();
  // Hosts, when every node belongs to a known one (a remote address or an unseen process does not).
  let hosts: Set<string> | undefined = new Set();
  for (const id of nodes) {
    const info = store.node(id);
    const host = info?.kind === 'endpoint' ? info.host : info?.host;
    if (host) hosts?.add(host);
    else hosts = undefined;
    if (id.startsWith('process:')) {
      entityIds.add(id.slice('process:'.length));
      continue;
    }
    if (info?.kind === 'file' || info?.kind === 'channel') paths.add(info.path);
    else if (info?.kind === 'endpoint') {
      const sel: EndpointSelector = info.port === undefined ? { ip: info.ip } : { ip: info.ip, port: info.port };
      endpoints.set(`${sel.ip}|${sel.port ?? ''}`, sel);
    }
  }
  const q: EventQuery = {};
  if (hosts?.size) q.hostIds = [...hosts].sort();
  if (entityIds.size) q.entityIds = [...entityIds].sort();
  if (paths.size) q.paths = [...paths].sort();
  if (endpoints.size) q.endpoints = [...endpoints.values()];
  return q;
}

// -----------------------------------------------------------------------------------------------------------------
// A whole trace
// -----------------------------------------------------------------------------------------------------------------

export interface TrackOptions {
  direction: TraceDirection;
  from?: string;
  to?: string;
  /** longest chain of steps from the point of interest. */
  maxDepth?: number;
  /** most nodes per direction. */
  maxNodes?: number;
  /** most events read from the source. */
  maxEvents?: number;
  pageSize?: number;
  ioFlushMs?: number;
  expandPseudo?: boolean;
}

export const TRACK_DEFAULTS = { maxDepth: 32, maxNodes: 5000, maxEvents: 1_000_000, pageSize: 10_000, ioFlushMs: 10_000 };

export interface TrackResult {
  store: StepStore;
  poi: Poi;
  /** the graph nodes the point of interest resolved to. */
  poiNodes: NodeId[];
  /** an event point of interest's own steps (part of the graph whatever the direction). */
  poiSteps: Step[];
  walkers: Walker[];
  window: Window;
  truncated: Truncated;
  loader: Loader;
  options: Required<Pick<TrackOptions, 'maxDepth' | 'maxNodes'>> & { expandPseudo: boolean };
}

export async function track(source: EventSource, poi: Poi, options: TrackOptions): Promise<TrackResult> {
  const opts = { ...TRACK_DEFAULTS, ...stripUndefined(options) };
  const window: Window = {};
  if (opts.from) window.from = parseTimestamp(opts.from);
  if (opts.to) window.to = parseTimestamp(opts.to);
  const store = new StepStore();
  const loader = new Loader(source, store, { window, pageSize: opts.pageSize, maxEvents: opts.maxEvents, ioFlushMs: opts.ioFlushMs });
  const range: EventQuery = {};
  if (opts.from) range.from = opts.from;
  if (opts.to) range.to = opts.to;

  // Resolve the point of interest to graph nodes (a path or an address may name several: hosts, ports).
  let poiNodes: NodeId[] = [];
  let poiSteps: Step[] = [];
  const seeds: { backward: Seed[]; forward: Seed[] } = { backward: [], forward: [] };
  switch (poi.kind) {
    case 'process': {
      const node = `process:${poi.entityId}`;
      poiNodes = [node];
      seeds.backward.push({ node, bound: POS_INF });
      seeds.forward.push({ node, bound: NEG_INF });
      break;
    }
    case 'file': {
      await loader.fetchAll({ ...range, paths: [poi.path] });
      for (const n of store.nodes.values()) if (n.kind === 'file' && n.path === poi.path && (!poi.host || n.host === poi.host)) poiNodes.push(n.id);
      loader.markLoaded(poiNodes, window.from ?? -Infinity, window.to ?? Infinity);
      for (const node of poiNodes) {
        seeds.backward.push({ node, bound: POS_INF });
        seeds.forward.push({ node, bound: NEG_INF });
      }
      break;
    }
    case 'endpoint': {
      await loader.fetchAll({ ...range, endpoints: [poi.port === undefined ? { ip: poi.ip } : { ip: poi.ip, port: poi.port }] });
      for (const n of store.nodes.values()) if (n.kind === 'endpoint' && n.ip === poi.ip && (poi.port === undefined || n.port === poi.port)) poiNodes.push(n.id);
      loader.markLoaded(poiNodes, window.from ?? -Infinity, window.to ?? Infinity);
      for (const node of poiNodes) {
        seeds.backward.push({ node, bound: POS_INF });
        seeds.forward.push({ node, bound: NEG_INF });
      }
      break;
    }
    case 'event': {
      await loader.fetchAll({ eventIds: [poi.eventId] });
      poiSteps = [...store.steps.values()].filter((s) => s.eventId === poi.eventId);
      const nodes = new Set<NodeId>();
      for (const s of poiSteps) {
        // Backward explains what flowed into the event (its causes, up to its end); forward follows what it
        // caused (its effects, from its start). Endpoints are recorded but not walked through.
        for (const n of flowSources(s)) seeds.backward.push({ node: n, bound: s.end, expand: !n.startsWith('endpoint:') });
        for (const n of flowTargets(s)) seeds.forward.push({ node: n, bound: s.start, expand: !n.startsWith('endpoint:') });
        for (const n of [s.source, s.target, ...(s.by ? [s.by] : [])]) nodes.add(n);
      }
      poiNodes = [...nodes];
      break;
    }
  }

  const walkOpts: WalkOptions = { maxDepth: opts.maxDepth, maxNodes: opts.maxNodes, window, expandPseudo: opts.expandPseudo ?? false };
  const walkers: Walker[] = [];
  const directions: Direction[] = options.direction === 'both' ? ['backward', 'forward'] : [options.direction];
  for (const dir of directions) {
    const walker = new Walker(store, dir, seeds[dir], walkOpts);
    while (!walker.done) {
      await loader.prepare(walker);
      walker.expandLevel();
    }
    walkers.push(walker);
  }

  await labelEndpoints(loader, store, walkers, range);

  const truncated: Truncated = {};
  if (walkers.some((w) => w.truncated.depth)) truncated.depth = true;
  if (walkers.some((w) => w.truncated.nodes)) truncated.nodes = true;
  if (loader.truncatedEvents) truncated.events = true;
  if (await windowCut(source, store, walkers, window, walkOpts)) truncated.window = true;

  return {
    store,
    poi,
    poiNodes,
    poiSteps,
    walkers,
    window,
    truncated,
    loader,
    options: { maxDepth: opts.maxDepth, maxNodes: opts.maxNodes, expandPseudo: walkOpts.expandPseudo ?? false },
  };
}

/** Most DNS answers read to label endpoints. */
const DNS_LABELS = 1000;

/** One query for DNS answers about the endpoints the graph reached without a domain, for their labels. */
async function labelEndpoints(loader: Loader, store: StepStore, walkers: Walker[], range: EventQuery): Promise<void> {
  const ips = new Set<string>();
  for (const w of walkers) {
    for (const id of w.visits.keys()) {
      const n = store.node(id);
      if (n?.kind === 'endpoint' && !n.domain && !store.domainOf(n.ip)) ips.add(n.ip);
    }
  }
  if (ips.size === 0) return;
  const page = await loader.source.fetch({ ...range, datasets: ['dns'], endpoints: [...ips].sort().map((ip) => ({ ip })), limit: DNS_LABELS });
  store.ingest(page);
}

const WINDOW_PROBE = 500;

/**
 * Did the time window cut the graph? Asks the source, once per direction, for events just outside the window
 * that touch the expanded nodes, and looks for one that would have been followed (flowing into a node, before
 * the window, for backward; out of one, after it, for forward). A full probe page with no such event cannot rule
 * it out, so it counts as cut: the flag may over-report, never under-report.
 */
async function windowCut(source: EventSource, store: StepStore, walkers: Walker[], window: Window, walkOpts: WalkOptions): Promise<boolean> {
  for (const w of walkers) {
    const backward = w.direction === 'backward';
    const edge = backward ? window.from : window.to;
    if (edge === undefined) continue;
    const expanded = [...w.visits.keys()].filter((n) => w.visits.get(n)!.depth < walkOpts.maxDepth && w.expandable(n));
    if (expanded.length === 0) continue;
    const q = selectorsFor(store, expanded);
    q.pathAccess = backward ? 'modify' : 'use';
    if (backward) q.to = isoBound(edge, 'floor');
    else q.from = isoBound(edge, 'ceil');
    const page = await source.fetch({ ...q, datasets: DEFAULT_DATASETS, limit: WINDOW_PROBE });
    const probe = new StepStore();
    probe.ingest(page);
    const set = new Set(expanded);
    for (const s of probe.steps.values()) {
      const touches = (backward ? flowTargets(s) : flowSources(s)).some((n) => set.has(n));
      if (touches && (backward ? s.start.t < edge : s.end.t > edge)) return true;
    }
    if (page.length >= WINDOW_PROBE) return true;
  }
  return false;
}

function isExpandable(store: StepStore, node: NodeId, opts: WalkOptions): boolean {
  if (node.startsWith('endpoint:')) return false;
  if (!opts.expandPseudo && node.startsWith('file:')) {
    const info = store.node(node);
    if (info?.kind === 'file' && isPseudoPath(info.path)) return false;
  }
  return true;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every step and node a finished trace reached (before reduction). */
export function tracedGraph(t: TrackResult): { steps: Map<string, Step>; nodes: Set<NodeId> } {
  const steps = new Map<string, Step>();
  const nodes = new Set<NodeId>(t.poiNodes);
  for (const s of t.poiSteps) steps.set(s.id, s);
  for (const w of t.walkers) {
    for (const n of w.visits.keys()) nodes.add(n);
    for (const l of w.links.values()) steps.set(l.step.id, l.step);
  }
  for (const s of steps.values()) {
    nodes.add(s.source);
    nodes.add(s.target);
    if (s.by) nodes.add(s.by);
  }
  return { steps, nodes };
}
