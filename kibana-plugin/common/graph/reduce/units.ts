/**
 * Unit partitioning: a BEEP approximation without binary instrumentation.
 *
 * BEEP splits a long-running process into "units" (iterations of its event loop) so that handling one request
 * does not depend on everything the process read while handling others. Without instrumentation, unit
 * boundaries are guessed from what the sensor sees:
 * - per accepted connection: a process with at least `minAccepts` accepts starts a new unit at each accept;
 * - per quiet period: a long-running process (activity spanning `longRunningMs`) with no such accepts starts a
 *   new unit after every silence of at least `quietMs`.
 * Unit 0 — everything before the first boundary — is start-up (exec, libraries, configuration) and every later
 * unit depends on it.
 *
 * Tracking through a partitioned process then keeps, backward from a bound in unit k, only the inputs of unit k
 * and of unit 0 (and the process's spawn/exec); forward from a bound in unit k > 0, only the outputs of unit k.
 * Dependencies a unit carries over in memory from another unit (a cache) are what the approximation cannot see.
 * For quiet-period units, reads of a file that some process wrote inside the window are kept whatever their
 * unit, so a daemon re-reading a modified crontab still explains the job it starts.
 *
 * Applied as a reduction: the tracked graph is walked again, in memory, with the unit filter, and only what
 * the new walk reaches is kept — plus the attack path, which no reduction removes.
 */
import type { StepStore } from '../build.ts';
import type { Direction, NodeId, Step } from '../model.ts';
import { sortInstant, type Instant } from '../time.ts';
import { Walker, type TrackResult, type UnitFilter } from '../track.ts';

export interface UnitOptions {
  minAccepts: number;
  quietMs: number;
  longRunningMs: number;
}

export const UNIT_DEFAULTS: UnitOptions = { minAccepts: 2, quietMs: 60_000, longRunningMs: 10 * 60_000 };

export interface ProcessUnits {
  by: 'accept' | 'quiet';
  /** unit i (i ≥ 1) starts at boundaries[i - 1]. */
  boundaries: Instant[];
}

export function partition(store: StepStore, node: NodeId, opts: UnitOptions): ProcessUnits | undefined {
  if (!node.startsWith('process:')) return undefined;
  const accepts = store
    .incoming(node)
    .filter((s) => s.kind === 'accept' && s.establish && s.target === node)
    .map((s) => s.start)
    .sort(sortInstant);
  if (accepts.length >= opts.minAccepts) return { by: 'accept', boundaries: accepts };
  if (accepts.length > 0) return undefined;
  const all = [...store.incoming(node), ...store.outgoing(node)].sort((a, b) => sortInstant(a.start, b.start));
  if (all.length < 2) return undefined;
  const span = all[all.length - 1]!.end.t - all[0]!.start.t;
  if (span < opts.longRunningMs) return undefined;
  const boundaries: Instant[] = [];
  let lastEnd = all[0]!.end.t;
  for (const s of all.slice(1)) {
    if (s.start.t - lastEnd >= opts.quietMs) boundaries.push(s.start);
    lastEnd = Math.max(lastEnd, s.end.t);
  }
  return boundaries.length ? { by: 'quiet', boundaries } : undefined;
}

/** Index of the unit `at` falls in: the number of boundaries at or before it. */
export function unitIndex(u: ProcessUnits, at: Instant): number {
  let lo = 0;
  let hi = u.boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortInstant(u.boundaries[mid]!, at) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class BeepFilter implements UnitFilter {
  private readonly cache = new Map<NodeId, ProcessUnits | undefined>();

  constructor(
    private readonly store: StepStore,
    private readonly opts: UnitOptions,
  ) {}

  units(node: NodeId): ProcessUnits | undefined {
    if (!this.cache.has(node)) this.cache.set(node, partition(this.store, node, this.opts));
    return this.cache.get(node);
  }

  allows(node: NodeId, step: Step, bound: Instant, direction: Direction): boolean {
    const u = this.units(node);
    if (!u || !Number.isFinite(bound.t)) return true;
    const k = unitIndex(u, bound);
    const j = unitIndex(u, step.start);
    if (direction === 'forward') return k === 0 || j === k;
    if (j === k || j === 0 || step.kind === 'spawn' || step.kind === 'exec') return true;
    if (u.by === 'quiet' && step.kind === 'read') {
      return this.store.incoming(step.source).some((s) => s.kind === 'write' || s.kind === 'rename');
    }
    return false;
  }
}

export interface UnitResult {
  steps: Map<string, Step>;
  nodes: Set<NodeId>;
  units: Map<NodeId, { total: number; kept: number; by: 'accept' | 'quiet' }>;
}

/** Walks the tracked graph again with the unit filter; keeps what it reaches plus `keep` (the attack path). */
export function applyUnits(t: TrackResult, traced: { steps: Map<string, Step>; nodes: Set<NodeId> }, keep: ReadonlySet<string>, opts: UnitOptions): UnitResult {
  const filter = new BeepFilter(t.store, opts);
  const steps = new Map<string, Step>();
  const nodes = new Set<NodeId>(t.poiNodes);
  for (const s of t.poiSteps) steps.set(s.id, s);
  for (const w of t.walkers) {
    const again = new Walker(t.store, w.direction, w.seeds, {
      maxDepth: t.options.maxDepth,
      maxNodes: t.options.maxNodes,
      window: t.window,
      expandPseudo: t.options.expandPseudo,
      allowStep: (s) => traced.steps.has(s.id),
      unitFilter: filter,
    }).run();
    for (const n of again.visits.keys()) nodes.add(n);
    for (const l of again.links.values()) steps.set(l.step.id, l.step);
  }
  for (const id of keep) {
    const s = traced.steps.get(id);
    if (s) steps.set(id, s);
  }
  for (const s of steps.values()) {
    nodes.add(s.source);
    nodes.add(s.target);
    if (s.by) nodes.add(s.by);
  }
  const units = new Map<NodeId, { total: number; kept: number; by: 'accept' | 'quiet' }>();
  for (const n of nodes) {
    const u = filter.units(n);
    if (!u) continue;
    const kept = new Set<number>();
    for (const s of steps.values()) if (s.source === n || s.target === n || s.by === n) kept.add(unitIndex(u, s.start));
    units.set(n, { total: u.boundaries.length + 1, kept: kept.size, by: u.by });
  }
  return { steps, nodes, units };
}
