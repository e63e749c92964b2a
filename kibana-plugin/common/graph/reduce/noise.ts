/**
 * Noise collapse and fan-out summaries.
 *
 * Folding nodes together is causality-preserving only when it cannot invent a path. A node that only feeds
 * others (a pure source: nothing in the graph flows into it) or only receives (a pure sink) can be merged with
 * others of its kind without creating any cause → effect path that did not exist. So:
 *
 * - Noise classes — shared libraries (/lib, /usr/lib, *.so*), locale and time-zone data, fonts, and configuration
 *   under /etc read within `startupMs` of the reader's exec and never modified in the fetched events — are folded
 *   into one summary node per class when they are pure sources that were only read. A library somebody wrote
 *   is not noise: it keeps its own node.
 * - /proc, /sys and /dev are not walked through by the tracker, so their reads and writes are folded into two
 *   summary nodes, one for what flowed in and one for what flowed out (never one node: that would join writers
 *   to readers).
 * - Fan-out: at least `fanOutThreshold` files (or endpoints) that touch nothing but one process, all by the
 *   same kind of step and under the same top three directories (or at the same IP), become one node: "412 files
 *   under /usr/share/doc/…". Having a single neighbour is what makes this safe in any direction: the summary
 *   still touches only that process, so no path can run through it.
 *
 * Nodes in `keep` (the point of interest, flagged nodes, anything on the attack path) are never folded.
 */
import { imageAt, type StepStore } from '../build.ts';
import { flowSources, flowTargets, type EdgeKind, type NodeId, type Step, type SummaryInfo } from '../model.ts';
import { basename, dirname, isPseudoPath, isUnder } from '../paths.ts';

export interface NoiseOptions {
  classes: boolean;
  fanOut: boolean;
  fanOutThreshold: number;
  startupMs: number;
}

export const NOISE_DEFAULTS: NoiseOptions = { classes: true, fanOut: true, fanOutThreshold: 8, startupMs: 2_000 };

export type NoiseClass = 'library' | 'locale' | 'font' | 'pseudo' | 'config';

const CLASS_LABEL: Record<NoiseClass, string> = {
  library: 'shared libraries',
  locale: 'locale and time-zone data',
  font: 'fonts',
  pseudo: '/proc, /sys and /dev',
  config: 'configuration read at start-up',
};

/** The noise class of a path on its own (configuration at start-up also needs the reader's timing). */
export function noiseClass(path: string): Exclude<NoiseClass, 'config'> | undefined {
  if (isPseudoPath(path)) return 'pseudo';
  if (
    isUnder(path, '/usr/lib/locale') ||
    isUnder(path, '/usr/share/locale') ||
    isUnder(path, '/usr/share/i18n') ||
    isUnder(path, '/usr/share/zoneinfo') ||
    path === '/etc/localtime' ||
    /^\/usr\/lib(64)?\/[^/]+\/gconv\//.test(path) ||
    isUnder(path, '/usr/lib/gconv')
  ) {
    return 'locale';
  }
  if (isUnder(path, '/usr/share/fonts') || isUnder(path, '/usr/local/share/fonts') || isUnder(path, '/var/cache/fontconfig') || isUnder(path, '/etc/fonts') || /\/\.cache\/fontconfig\//.test(path) || /\/\.fonts\//.test(path)) {
    return 'font';
  }
  if (['/lib', '/lib32', '/lib64', '/usr/lib', '/usr/lib32', '/usr/lib64', '/usr/local/lib'].some((d) => isUnder(path, d))) return 'library';
  if (/\.so(\.\d+)*$/.test(basename(path)) || path === '/etc/ld.so.cache') return 'library';
  return undefined;
}

export interface SummaryNode {
  id: NodeId;
  kind: 'file' | 'endpoint';
  label: string;
  info: SummaryInfo;
  members: NodeId[];
}

export interface NoiseResult {
  steps: Step[];
  summaries: Map<NodeId, SummaryNode>;
  noiseCollapsed: number;
  fanOutCollapsed: number;
}

type Role = 'in' | 'out';

interface Usage {
  kinds: Set<EdgeKind>;
  roles: Set<Role>;
  neighbours: Set<NodeId>;
  steps: Step[];
}

export function collapseNoise(store: StepStore, steps: readonly Step[], keep: ReadonlySet<NodeId>, opts: NoiseOptions): NoiseResult {
  const usage = new Map<NodeId, Usage>();
  const use = (n: NodeId): Usage => {
    let u = usage.get(n);
    if (!u) usage.set(n, (u = { kinds: new Set(), roles: new Set(), neighbours: new Set(), steps: [] }));
    return u;
  };
  for (const s of steps) {
    const ends = [s.source, s.target, ...(s.by ? [s.by] : [])];
    for (const n of ends) {
      const u = use(n);
      u.kinds.add(s.kind);
      u.steps.push(s);
      for (const m of ends) if (m !== n) u.neighbours.add(m);
      if (flowTargets(s).includes(n)) u.roles.add('in');
      if (flowSources(s).includes(n)) u.roles.add('out');
    }
  }

  // node → (role → summary id)
  const mapping = new Map<NodeId, Partial<Record<Role, NodeId>>>();
  const summaries = new Map<NodeId, SummaryNode>();
  const join = (node: NodeId, role: Role, id: NodeId, make: () => Omit<SummaryNode, 'members' | 'info'> & { info: Omit<SummaryInfo, 'members' | 'sample'> }) => {
    let sum = summaries.get(id);
    if (!sum) {
      const m = make();
      sum = { ...m, info: { ...m.info, members: 0, sample: [] }, members: [] };
      summaries.set(id, sum);
    }
    if (!sum.members.includes(node)) sum.members.push(node);
    const roles = mapping.get(node) ?? {};
    roles[role] = id;
    mapping.set(node, roles);
  };
  let noiseCollapsed = 0;
  let fanOutCollapsed = 0;

  const ids = [...usage.keys()].sort();
  if (opts.classes) {
    for (const n of ids) {
      if (keep.has(n)) continue;
      const info = store.node(n);
      if (info?.kind !== 'file') continue;
      const u = usage.get(n)!;
      let cls: NoiseClass | undefined = noiseClass(info.path);
      if (cls === 'pseudo') {
        if (![...u.kinds].every((k) => k === 'read' || k === 'write')) continue;
        for (const role of u.roles) join(n, role, `summary:pseudo:${role}`, () => ({ id: `summary:pseudo:${role}`, kind: 'file', label: CLASS_LABEL.pseudo, info: { class: `pseudo-${role}` } }));
        noiseCollapsed++;
        continue;
      }
      const onlyRead = u.kinds.size === 1 && u.kinds.has('read') && u.roles.size === 1 && u.roles.has('out');
      if (!onlyRead) continue;
      if (!cls && isUnder(info.path, '/etc') && configAtStart(store, n, u.steps, opts.startupMs)) cls = 'config';
      if (!cls) continue;
      const c = cls;
      join(n, 'out', `summary:${c}`, () => ({ id: `summary:${c}`, kind: 'file', label: CLASS_LABEL[c], info: { class: c } }));
      noiseCollapsed++;
    }
  }

  if (opts.fanOut) {
    const groups = new Map<string, NodeId[]>();
    for (const n of ids) {
      if (keep.has(n) || mapping.has(n)) continue;
      const info = store.node(n);
      if (info?.kind !== 'file' && info?.kind !== 'endpoint') continue;
      const u = usage.get(n)!;
      // One neighbour is what makes folding safe whatever the direction: the summary still touches only that
      // process, so no path can run through it.
      if (u.neighbours.size !== 1 || u.kinds.size !== 1) continue;
      const [proc] = [...u.neighbours];
      const [kind] = [...u.kinds];
      if (!proc!.startsWith('process:') || kind === 'rename') continue;
      const where = info.kind === 'file' ? groupDir(info.path) : info.ip;
      const key = `${proc}|${kind}|${info.kind}|${where}`;
      const g = groups.get(key);
      if (g) g.push(n);
      else groups.set(key, [n]);
    }
    for (const [key, members] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (members.length < opts.fanOutThreshold) continue;
      const [proc, kind, nodeKind] = key.split('|') as [NodeId, EdgeKind, 'file' | 'endpoint'];
      const labels = members.map((m) => {
        const info = store.node(m)!;
        return info.kind === 'file' ? info.path : info.kind === 'endpoint' ? `${info.ip}${info.port === undefined ? '' : `:${info.port}`}` : m;
      });
      const prefix = nodeKind === 'file' ? commonDir(labels) : (store.node(members[0]!) as { ip: string }).ip;
      const id = `summary:fanout:${kind}:${proc}:${prefix}`;
      const label =
        nodeKind === 'file'
          ? `${members.length} files under ${prefix === '/' ? '/' : `${prefix}/`}…`
          : `${members.length} ${kind === 'accept' ? 'peers at' : 'endpoints at'} ${prefix}`;
      for (const m of members) for (const role of usage.get(m)!.roles) join(m, role, id, () => ({ id, kind: nodeKind, label, info: { class: `fanout-${kind}`, prefix } }));
      fanOutCollapsed += members.length;
    }
  }

  for (const sum of summaries.values()) {
    sum.info.members = sum.members.length;
    sum.info.sample = sum.members
      .map((m) => {
        const info = store.node(m);
        return info?.kind === 'file' ? info.path : info?.kind === 'endpoint' ? `${info.ip}${info.port === undefined ? '' : `:${info.port}`}` : m;
      })
      .sort()
      .slice(0, 5);
    if (!sum.id.startsWith('summary:fanout:')) sum.label = `${sum.label} (${sum.members.length} ${sum.members.length === 1 ? 'file' : 'files'})`;
  }

  const rewritten = steps.map((s) => {
    const src = mapEnd(mapping, s.source, flowTargets(s).includes(s.source) ? 'in' : 'out');
    const tgt = mapEnd(mapping, s.target, flowTargets(s).includes(s.target) ? 'in' : 'out');
    return src === s.source && tgt === s.target ? s : { ...s, source: src, target: tgt };
  });
  return { steps: rewritten, summaries, noiseCollapsed, fanOutCollapsed };
}

function mapEnd(mapping: Map<NodeId, Partial<Record<Role, NodeId>>>, node: NodeId, role: Role): NodeId {
  return mapping.get(node)?.[role] ?? node;
}

/** Read under /etc only within `startupMs` of the reader's exec, and nobody in the fetched events changed it. */
function configAtStart(store: StepStore, node: NodeId, steps: Step[], startupMs: number): boolean {
  if (store.incoming(node).length > 0) return false;
  for (const s of steps) {
    const reader = store.process(s.target);
    if (!reader) return false;
    const img = imageAt(reader, s.start);
    if (!img || s.start.t - img.at.t > startupMs) return false;
  }
  return true;
}

/** Group fan-out files by their first three directory levels (/usr/share/doc, /home/u/project). */
function groupDir(path: string): string {
  const parts = dirname(path).split('/').filter(Boolean);
  return `/${parts.slice(0, 3).join('/')}`;
}

/** Longest common directory of a set of paths. */
export function commonDir(paths: readonly string[]): string {
  if (paths.length === 0) return '/';
  let common = dirname(paths[0]!).split('/').filter(Boolean);
  for (const p of paths.slice(1)) {
    const parts = dirname(p).split('/').filter(Boolean);
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return `/${common.join('/')}`;
}
