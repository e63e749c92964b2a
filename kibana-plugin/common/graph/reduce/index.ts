/**
 * The reduction pipeline, in the order that keeps each stage's guarantee:
 *   1. unit partitioning (re-walk the tracked graph with BEEP units: drops dependencies on other requests),
 *   2. noise collapse and fan-out summaries (fold pure sources/sinks: cannot invent a path),
 *   3. CPR merge (repeated steps between the same pair with nothing causally relevant in between).
 * Steps on the attack path survive 1, their nodes are exempt from 2, and 3 only merges them with their own
 * repeats, so every attack-path step still has an edge between the same two nodes covering its time.
 */
import type { NodeId, ReductionStats, Step } from '../model.ts';
import type { TrackResult } from '../track.ts';
import { mergeRuns, type CprMode } from './cpr.ts';
import { collapseNoise, NOISE_DEFAULTS, type NoiseOptions, type SummaryNode } from './noise.ts';
import { applyUnits, UNIT_DEFAULTS, type UnitOptions } from './units.ts';

export interface ReduceOptions {
  units?: boolean | Partial<UnitOptions>;
  noise?: boolean | Partial<NoiseOptions>;
  cpr?: CprMode;
}

export interface Reduced {
  runs: Step[][];
  nodes: Set<NodeId>;
  summaries: Map<NodeId, SummaryNode>;
  units: Map<NodeId, { total: number; kept: number; by: 'accept' | 'quiet' }>;
  stats?: ReductionStats;
}

export function reduceGraph(
  t: TrackResult,
  traced: { steps: Map<string, Step>; nodes: Set<NodeId> },
  keepSteps: ReadonlySet<string>,
  keepNodes: ReadonlySet<NodeId>,
  options: ReduceOptions | false,
): Reduced {
  if (options === false) {
    return { runs: mergeRuns([...traced.steps.values()], 'off'), nodes: new Set(traced.nodes), summaries: new Map(), units: new Map() };
  }
  const stats: ReductionStats = { units_pruned_edges: 0, units_pruned_nodes: 0, noise_collapsed_nodes: 0, fanout_collapsed_nodes: 0, cpr_merged_edges: 0 };

  let steps = traced.steps;
  let nodes = traced.nodes;
  let units: Reduced['units'] = new Map();
  if (options.units !== false) {
    const u = applyUnits(t, traced, keepSteps, { ...UNIT_DEFAULTS, ...(typeof options.units === 'object' ? options.units : {}) });
    stats.units_pruned_edges = steps.size - u.steps.size;
    stats.units_pruned_nodes = nodes.size - u.nodes.size;
    steps = u.steps;
    nodes = u.nodes;
    units = u.units;
  }

  let list = [...steps.values()];
  let summaries = new Map<NodeId, SummaryNode>();
  if (options.noise !== false) {
    const keep = new Set(keepNodes);
    for (const id of keepSteps) {
      const s = steps.get(id);
      if (!s) continue;
      keep.add(s.source);
      keep.add(s.target);
      if (s.by) keep.add(s.by);
    }
    const n = collapseNoise(t.store, list, keep, { ...NOISE_DEFAULTS, ...(typeof options.noise === 'object' ? options.noise : {}) });
    list = n.steps;
    summaries = n.summaries;
    stats.noise_collapsed_nodes = n.noiseCollapsed;
    stats.fanout_collapsed_nodes = n.fanOutCollapsed;
    const folded = new Set<NodeId>();
    for (const s of summaries.values()) for (const m of s.members) folded.add(m);
    const next = new Set<NodeId>();
    for (const id of nodes) if (!folded.has(id)) next.add(id);
    for (const s of list) {
      next.add(s.source);
      next.add(s.target);
      if (s.by) next.add(s.by);
    }
    nodes = next;
  }

  const runs = mergeRuns(list, options.cpr ?? 'causal');
  stats.cpr_merged_edges = list.length - runs.length;
  return { runs, nodes, summaries, units, stats };
}
