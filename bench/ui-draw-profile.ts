/**
 * Where the time of "URL → drawn 1,000-node graph" goes, in the real Chromium of the bench (not a benchmark: a
 * breakdown to read beside `npm run bench -- "URL to a drawn"`):
 *
 *   bun run bench/ui-draw-profile.ts [--kibana 9.5.0] [--rounds 3] [--inclusive N] [--callers MODULE]
 *
 * The same store, graph and URL as bench/ui.bench.ts. Each round navigates (scripts cached, as in the bench) under
 * Chromium's tracing and sorts the renderer main thread's time into: script compile and evaluation per file, the
 * graph route (request to body), JavaScript by source module (the V8 sampling profiler, attributed to the module
 * esbuild's unminified output names above each part), style/layout/paint, GC, and idle (waiting on the network or
 * on nothing). Medians over the rounds.
 */
import type { Page } from 'puppeteer-core';
import { KIBANA_TARGETS, targetFor } from '../kibana-plugin/versions.ts';
import { openDrawBench, waitDrawn, type DrawBench } from './ui.bench.ts';
import { median } from './harness.ts';

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { data?: Record<string, unknown>; name?: string };
}

interface ProfileNode {
  id: number;
  parent?: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

/** esbuild's unminified bundles mark each module with a `// path` line: line number → module. */
function moduleIndex(source: string): (line: number) => string {
  const starts: { line: number; name: string }[] = [];
  source.split('\n').forEach((text, i) => {
    const m = /^\s*\/\/ (\S+\.(?:[cm]?js|ts|tsx|json))$/.exec(text);
    if (m) starts.push({ line: i, name: m[1]!.replace(/^.*node_modules\//, '').replace(/^(@[^/]+\/[^/]+|[^@][^/]*)\/.*$/, '$1') });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.name;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

function fileOf(url: string): string {
  return url ? url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '') : '';
}

interface Round {
  total: number;
  buckets: Map<string, number>;
  js: Map<string, number>;
  functions: Map<string, number>;
  inclusive: Map<string, number>;
  timeline: string[];
  callers: Map<string, number>;
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

/** The renderer main thread's top-level work, by kind; nested events are charged to the top-level one. */
function bucketsOf(events: TraceEvent[], start: number, end: number): Map<string, number> {
  const buckets = new Map<string, number>();
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && events.some((x) => x.pid === e.pid && x.name === 'ParseHTML'));
  if (!main) throw new Error('no renderer main thread in the trace');
  const complete = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined && e.ts >= start && e.ts <= end)
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  // Only the work inside a task (RunTask) is the thread's own; within it, the outermost named event says what.
  let taskEnd = -1;
  let busy = 0;
  for (const e of complete) {
    if (e.name !== 'RunTask' || e.ts < taskEnd) continue;
    taskEnd = e.ts + e.dur!;
    busy += e.dur!;
    const inner = complete.filter((x) => x !== e && x.ts >= e.ts && x.ts + x.dur! <= taskEnd);
    let charged = 0;
    let innerEnd = -1;
    for (const x of inner) {
      if (x.ts < innerEnd) continue;
      const kind = kindOf(x);
      if (!kind) {
        if (process.env.PROFILE_DEBUG && x.dur! > 5000) add(buckets, `? ${x.name}`, 0);
        continue;
      }
      innerEnd = x.ts + x.dur!;
      charged += x.dur!;
      add(buckets, kind, x.dur! / 1000);
    }
    add(buckets, 'other task work', (e.dur! - charged) / 1000);
  }
  add(buckets, 'main thread idle (network, timers, waiting)', (end - start - busy) / 1000);
  return buckets;
}

function kindOf(e: TraceEvent): string | undefined {
  const url = fileOf(String(e.args?.data?.url ?? ''));
  switch (e.name) {
    case 'EvaluateScript':
      return `script: load ${url.split('/').pop()}`;
    case 'v8.compile':
    case 'v8.compileModule':
      return `script: compile ${url.split('/').pop()}`;
    case 'ParseHTML':
      return 'parse HTML';
    case 'FunctionCall':
    case 'TimerFire':
    case 'FireAnimationFrame':
    case 'EventDispatch':
    case 'V8.Execute':
    case 'v8.run':
    case 'RunMicrotasks':
    case 'XHRReadyStateChange':
      return 'JavaScript (see by module)';
    case 'UpdateLayoutTree':
    case 'RecalculateStyles':
    case 'ParseAuthorStyleSheet':
      return 'style';
    case 'Layout':
      return 'layout';
    case 'Paint':
    case 'PaintImage':
    case 'UpdateLayerTree':
    case 'Layerize':
    case 'PrePaint':
    case 'CompositeLayers':
    case 'Commit':
      return 'paint and composite';
    case 'MajorGC':
    case 'MinorGC':
    case 'V8.GCScavenger':
    case 'V8.GCFinalizeMC':
    case 'BlinkGC.AtomicPhase':
      return 'GC';
    default:
      return undefined;
  }
}

async function profileRound(d: DrawBench, unminified: Map<string, (line: number) => string>, callersOf?: string): Promise<Round> {
  const page: Page = d.page;
  // the tab in front: a background tab gets no animation frames
  await page.bringToFront();
  // A same-origin page first: the renderer process (and the profiler attached to it) stays for the navigation.
  await page.goto(`${d.base}/plugins/provmon/assets/provmon.svg`);
  const cdp = await page.createCDPSession();
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await page.tracing.start({ categories: ['devtools.timeline', 'v8', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading', 'netlog'] });
  await cdp.send('Profiler.start');
  const t0 = Date.now();
  await page.goto(`${d.ui.url}/provenance?${d.query}`, { waitUntil: 'domcontentloaded' });
  await waitDrawn(page, d.nodes);
  const total = Date.now() - t0;
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number } };
  const trace = JSON.parse(Buffer.from((await page.tracing.stop())!).toString('utf8')) as { traceEvents: TraceEvent[] };
  await cdp.detach();

  const events = trace.traceEvents;
  const nav = events.find((e) => e.name === 'navigationStart' && String(e.args?.data?.documentLoaderURL ?? '').includes('/provenance'));
  const startTs = nav?.ts ?? Math.min(...events.filter((e) => e.ts > 0).map((e) => e.ts));
  const endTs = startTs + total * 1000;
  const buckets = bucketsOf(events, startTs, endTs);

  // The graph route: request sent → last byte received (network, not main thread).
  const sent = events.find((e) => e.name === 'ResourceSendRequest' && String(e.args?.data?.url ?? '').includes('/api/provmon/graph'));
  const done = sent && events.find((e) => e.name === 'ResourceFinish' && e.args?.data?.requestId === sent.args?.data?.requestId);
  if (sent) buckets.set('(route: navigation start → graph request sent)', (sent.ts - startTs) / 1000);
  if (sent && done) buckets.set('(route: graph request sent → body received)', (done.ts - sent.ts) / 1000);

  // JavaScript self time by source module.
  const js = new Map<string, number>();
  const functions = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]!)!;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const f = n.callFrame;
    const file = fileOf(f.url).split('/').pop() ?? '';
    const where = unminified.get(file);
    const label = f.url ? `${file}: ${where ? where(f.lineNumber) : '?'}` : f.functionName || '(native)';
    add(js, label, dt);
    add(functions, `${label} ${f.functionName || '(anonymous)'}:${f.lineNumber}`, dt);
  }
  // Inclusive time of named functions (a function counted once per sample however deep it recurses).
  const inclusive = new Map<string, number>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of (n as ProfileNode & { children?: number[] }).children ?? []) parentOf.set(c, n.id);
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (!f.url || !f.functionName) continue;
      const file = fileOf(f.url).split('/').pop() ?? '';
      const where = unminified.get(file);
      const key = `${file}: ${where ? where(f.lineNumber) : '?'} ${f.functionName}`;
      if (!seen.has(key)) add(inclusive, key, dt);
      seen.add(key);
    }
  }
  // Timeline: the main thread's long tasks, each with what the samples inside it were running (the innermost
  // function of provmon's own code, or else the module of the running code).
  const sampleTimes: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) sampleTimes.push((t += profile.timeDeltas[i] ?? 0));
  const whatOf = (id: number): string => {
    let leafModule = '';
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const file = fileOf(f.url).split('/').pop() ?? '';
      const where = unminified.get(file);
      const mod = where ? where(f.lineNumber) : file;
      if (mod === 'kibana-plugin' && f.functionName) return `provmon ${f.functionName}`;
      if (!leafModule && f.url) leafModule = mod;
    }
    return leafModule || byId.get(id)!.callFrame.functionName || '?';
  };
  const timeline: string[] = [];
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && events.some((x) => x.pid === e.pid && x.name === 'ParseHTML'))!;
  const sent2 = sent;
  const marks: { ts: number; text: string }[] = [];
  if (sent2) marks.push({ ts: sent2.ts, text: 'graph request sent' });
  if (done) marks.push({ ts: done.ts, text: 'graph body received' });
  for (const e of events) {
    if (e.pid !== main.pid || e.tid !== main.tid || e.name !== 'RunTask' || e.dur === undefined || e.dur < 15_000 || e.ts < startTs || e.ts > endTs) continue;
    const what = new Map<string, number>();
    for (let i = 0; i < sampleTimes.length; i++) if (sampleTimes[i]! >= e.ts && sampleTimes[i]! <= e.ts + e.dur) add(what, whatOf(profile.samples[i]!), (profile.timeDeltas[i + 1] ?? 0) / 1000);
    const top = [...what].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    const inner = events.find((x) => x.pid === e.pid && x.tid === e.tid && x.ts >= e.ts && x.ts < e.ts + e.dur! && kindOf(x));
    marks.push({ ts: e.ts, text: `${(e.dur / 1000).toFixed(0).padStart(5)} ms  ${inner ? kindOf(inner) : 'task'}${top ? `: ${top}` : ''}` });
  }
  // Dedicated workers' long tasks (the layout worker), beside the main thread's.
  const workerThreads = events.filter((e) => e.name === 'thread_name' && e.pid === main.pid && /DedicatedWorker/.test(String(e.args?.name)));
  for (const wt of workerThreads) {
    for (const e of events) {
      if (e.pid !== wt.pid || e.tid !== wt.tid || e.ph !== 'X' || e.dur === undefined || e.dur < 15_000 || e.ts < startTs || e.ts > endTs) continue;
      if (!['RunTask', 'EvaluateScript', 'v8.compile', 'FunctionCall', 'EventDispatch'].includes(e.name)) continue;
      marks.push({ ts: e.ts, text: `${(e.dur / 1000).toFixed(0).padStart(5)} ms  [worker] ${e.name}` });
    }
  }
  for (const m of marks.sort((a, b) => a.ts - b.ts)) timeline.push(`${((m.ts - startTs) / 1000).toFixed(0).padStart(6)} ms  ${m.text}`);
  // `--callers MODULE`: who calls into that module (the chains of named functions above its samples).
  const callers = new Map<string, number>();
  const wanted = callersOf;
  if (wanted) {
    for (let i = 0; i < profile.samples.length; i++) {
      const chain: string[] = [];
      let hit = false;
      for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parentOf.get(id)) {
        const f = byId.get(id)!.callFrame;
        const file = fileOf(f.url).split('/').pop() ?? '';
        const where = unminified.get(file);
        const mod = where ? where(f.lineNumber) : file;
        if (mod === wanted) hit = true;
        else if (hit && f.functionName && chain.length < 8) chain.push(`${f.functionName} (${mod})`);
      }
      if (hit) add(callers, chain.join(' < '), (profile.timeDeltas[i + 1] ?? 0) / 1000);
    }
  }
  return { total, buckets, js, functions, inclusive, timeline, callers };
}

function printTable(title: string, rounds: Map<string, number>[], limit = 40): void {
  const keys = new Set(rounds.flatMap((r) => [...r.keys()]));
  const rows = [...keys].map((k) => ({ k, ms: median(rounds.map((r) => r.get(k) ?? 0)) })).sort((a, b) => b.ms - a.ms);
  process.stdout.write(`\n${title}\n`);
  for (const r of rows.slice(0, limit)) if (r.ms >= 1) process.stdout.write(`  ${r.ms.toFixed(0).padStart(6)} ms  ${r.k}\n`);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const target = opt('--kibana') ? targetFor(opt('--kibana')!) : KIBANA_TARGETS[KIBANA_TARGETS.length - 1]!;
  const rounds = Number(opt('--rounds') ?? 3);
  const d = await openDrawBench(target, { unminified: true });
  try {
    const unminified = new Map([...d.unminifiedSources].map(([file, text]) => [file, moduleIndex(text)]));
    await profileRound(d, unminified); // warm-up: caches and code caches, as the bench's
    const results: Round[] = [];
    for (let i = 0; i < rounds; i++) results.push(await profileRound(d, unminified, opt('--callers')));
    process.stdout.write(`${d.note}\nunminified bundles (module attribution), under the profiler and tracing: totals run higher than the bench's\n`);
    process.stdout.write(`URL → drawn, median of ${rounds}: ${median(results.map((r) => r.total)).toFixed(0)} ms [${results.map((r) => r.total).join(', ')}]\n`);
    process.stdout.write(`\ntimeline of the last round (ms from navigation start; main-thread tasks of 15 ms or more):\n${results[results.length - 1]!.timeline.join('\n')}\n`);
    printTable('renderer main thread (top-level work by kind):', results.map((r) => r.buckets));
    printTable('JavaScript self time by file and module (sampling profiler):', results.map((r) => r.js), 30);
    printTable('JavaScript self time by function:', results.map((r) => r.functions), 25);
    printTable('JavaScript inclusive time by function (callees included):', results.map((r) => r.inclusive), Number(opt('--inclusive') ?? 60));
    if (opt('--callers')) printTable(`callers of ${opt('--callers')}:`, results.map((r) => r.callers), 12);
  } finally {
    await d.close();
  }
}
