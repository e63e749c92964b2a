/**
 * Causality-preserving reduction (CPR, Xu et al., CCS 2016): merge repeated steps between the same pair.
 *
 * Steps of one group (same kind, source, target and rename actor) are merged in time order into runs. A step b
 * joins the current run (ending at e) unless some other step interleaves in the gap (e, b.start) in a way that
 * would make the merged edge lie about causality:
 *
 * - `causal` mode (the default, CPR's own condition): a step flowing INTO a flow source of the group (the
 *   source's state changed between the two, so b may carry information the run did not), or OUT OF a flow target
 *   of the group (something left the target between the two, so the run alone explains it, b cannot have).
 *   Anything else in between is irrelevant to the pair and does not block the merge.
 * - `strict` mode: ANY other step incident to either end blocks the merge.
 *
 * Aggregated steps are intervals: a step interleaves when it overlaps the gap at all; same-millisecond steps
 * that cannot be ordered count as interleaving. A merged edge keeps first = earliest start, last = latest end,
 * which is exactly what backward (first < bound) and forward (last > bound) tracking test, so every trace over
 * the merged graph reaches what it reached over the steps.
 */
import { flowSources, flowTargets, type NodeId, type Step } from '../model.ts';
import { mayFollow, mayPrecede, maxInstant, sortInstant, type Instant } from '../time.ts';

export type CprMode = 'causal' | 'strict' | 'off';

interface Entry {
  start: Instant;
  end: Instant;
  group: string;
}

class TimeList {
  private readonly entries: Entry[] = [];
  private maxSpan = 0;
  private sorted = true;

  add(e: Entry): void {
    this.entries.push(e);
    this.maxSpan = Math.max(this.maxSpan, e.end.t - e.start.t);
    this.sorted = false;
  }

  /** Is there an entry of another group overlapping the open gap (after, before)? */
  interleaves(after: Instant, before: Instant, group: string): boolean {
    if (!this.sorted) {
      this.entries.sort((a, b) => a.start.t - b.start.t);
      this.sorted = true;
    }
    const list = this.entries;
    // Only entries starting in [after - maxSpan, before] can overlap the gap.
    let lo = 0;
    let hi = list.length;
    const floor = after.t - this.maxSpan;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.start.t < floor) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length && list[i]!.start.t <= before.t; i++) {
      const e = list[i]!;
      if (e.group === group) continue;
      if (mayPrecede(e.start, before) && mayFollow(e.end, after)) return true;
    }
    return false;
  }
}

export function groupKey(s: Step): string {
  return `${s.kind}|${s.source}|${s.target}|${s.by ?? ''}`;
}

/** Runs of steps; each run becomes one edge. With mode 'off' every step is its own run. */
export function mergeRuns(steps: readonly Step[], mode: CprMode): Step[][] {
  const ordered = [...steps].sort((a, b) => sortInstant(a.start, b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (mode === 'off') return ordered.map((s) => [s]);

  const into = new Map<NodeId, TimeList>();
  const outOf = new Map<NodeId, TimeList>();
  const list = (m: Map<NodeId, TimeList>, n: NodeId) => {
    let l = m.get(n);
    if (!l) m.set(n, (l = new TimeList()));
    return l;
  };
  const groups = new Map<string, Step[]>();
  for (const s of ordered) {
    const group = groupKey(s);
    const e = { start: s.start, end: s.end, group };
    if (mode === 'strict') {
      for (const n of new Set([s.source, s.target, ...(s.by ? [s.by] : [])])) list(into, n).add(e);
    } else {
      for (const n of flowTargets(s)) list(into, n).add(e);
      for (const n of flowSources(s)) list(outOf, n).add(e);
    }
    const g = groups.get(group);
    if (g) g.push(s);
    else groups.set(group, [s]);
  }

  const runs: Step[][] = [];
  for (const [group, members] of groups) {
    let run: Step[] = [members[0]!];
    let runEnd = members[0]!.end;
    let sources = new Set(flowSources(members[0]!));
    let targets = new Set(flowTargets(members[0]!));
    for (const b of members.slice(1)) {
      const bSources = new Set([...sources, ...flowSources(b)]);
      const bTargets = new Set([...targets, ...flowTargets(b)]);
      let blocked = false;
      if (mode === 'strict') {
        for (const n of new Set([b.source, b.target, ...(b.by ? [b.by] : [])])) if (into.get(n)?.interleaves(runEnd, b.start, group)) blocked = true;
      } else {
        for (const n of bSources) if (into.get(n)?.interleaves(runEnd, b.start, group)) blocked = true;
        for (const n of bTargets) if (!blocked && outOf.get(n)?.interleaves(runEnd, b.start, group)) blocked = true;
      }
      if (blocked) {
        runs.push(run);
        run = [b];
        runEnd = b.end;
        sources = new Set(flowSources(b));
        targets = new Set(flowTargets(b));
      } else {
        run.push(b);
        runEnd = maxInstant(runEnd, b.end);
        sources = bSources;
        targets = bTargets;
      }
    }
    runs.push(run);
  }
  return runs;
}
