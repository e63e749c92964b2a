/**
 * The attack path: what reduction must never remove.
 *
 * Definition. The relevant nodes are the point of interest and every node a rule flagged (severity medium or
 * high). A step is on the attack path when it lies on a path, in the tracked graph and in the direction
 * information flowed, between a relevant node and the point of interest:
 * - backward graph: every node reaches the point of interest (that is how it got in), so the steps on a path
 *   from a relevant node R to it are the steps whose cause is reachable from R;
 * - forward graph: every node is reached from the point of interest, so the steps on a path to R are the steps
 *   whose effect can reach R.
 * Plus the steps a rule flagged or cited as evidence, and an event point of interest's own steps. With nothing
 * flagged nothing is protected: the point of interest alone is not a path, and protecting its direct inputs
 * would exempt exactly the library and configuration reads that noise collapse exists for.
 *
 * Reachability ignores time here (the walk already enforced it on the way in); the over-approximation can
 * only protect more, never less.
 */
import type { NodeId, Step } from '../model.ts';
import type { Walker } from '../track.ts';

export function attackPath(walkers: readonly Walker[], poiSteps: readonly Step[], poiNodes: readonly NodeId[], relevant: ReadonlySet<NodeId>, evidence: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const s of poiSteps) out.add(s.id);
  const poi = new Set(poiNodes);
  for (const w of walkers) {
    const links = [...w.links.values()];
    const effectsOf = new Map<NodeId, NodeId[]>();
    const causesOf = new Map<NodeId, NodeId[]>();
    for (const l of links) {
      push(effectsOf, l.cause, l.effect);
      push(causesOf, l.effect, l.cause);
    }
    const starts = [...relevant].filter((n) => w.visits.has(n));
    const closure = reach(starts, w.direction === 'backward' ? effectsOf : causesOf);
    for (const l of links) {
      const onPath = w.direction === 'backward' ? closure.has(l.cause) : closure.has(l.effect);
      if (onPath || evidence.has(l.step.id) || (poi.has(l.cause) && poi.has(l.effect))) out.add(l.step.id);
    }
  }
  return out;
}

function reach(starts: NodeId[], next: Map<NodeId, NodeId[]>): Set<NodeId> {
  const seen = new Set(starts);
  const stack = [...starts];
  while (stack.length) {
    const n = stack.pop()!;
    for (const m of next.get(n) ?? []) {
      if (seen.has(m)) continue;
      seen.add(m);
      stack.push(m);
    }
  }
  return seen;
}

function push(m: Map<NodeId, NodeId[]>, k: NodeId, v: NodeId): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
