/**
 * A real attack-like scenario under the real sensor (root, eBPF), loopback only, then `provmon graph` on what it
 * captured:
 *
 *   python3's http.server on 127.0.0.1 serves a script; a shell fetches it with curl into a world-writable
 *   directory, chmod +x, runs it; the script (bash) reads /etc/shadow, opens 127.0.0.1:<listener> with /dev/tcp,
 *   sends what it read to a one-shot TCP listener started by the test, and deletes itself (rm "$0").
 *
 * Backward from the listener's endpoint and forward from the fetched file, reduced and unreduced, the whole chain
 * must appear in order through the file that links the processes (curl writes the file → the file is executed →
 * the secret is read → the listener is connected to), with the nodes flagged: exec from a writable location,
 * credential read, exfiltration after it, self-deletion.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GraphEdge, GraphNode, ProvenanceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { captureAttack, ENV, type Scenario } from '../../../test/support/attack-scenario.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const isRoot = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');

function graph(args: string[]): ProvenanceGraph {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'graph', ...args], { cwd: ROOT, env: ENV });
  const stderr = r.stderr.toString();
  if (r.exitCode !== 0) throw new Error(`provmon graph ${args.join(' ')} exited ${r.exitCode}:\n${stderr}`);
  return JSON.parse(r.stdout.toString()) as ProvenanceGraph;
}

describe.skipIf(!isRoot)('attack chain under the real sensor, traced by provmon graph (root, kernel BPF)', () => {
  let run: Scenario;
  let dropped: string;
  let listenerPort: number;
  let received: number;
  let eventsDir: string;
  const runs: Scenario[] = [];

  beforeAll(async () => {
    run = await captureAttack(runs);
    ({ dropped, listenerPort, received, eventsDir } = run);
  }, 150_000);

  afterAll(() => {
    for (const r of runs) {
      rmSync(r.work, { recursive: true, force: true });
      rmSync(r.eventsDir, { recursive: true, force: true });
    }
  });

  test('the scenario ran: the listener got the secret, the script deleted itself, the sensor lost nothing', () => {
    expect(received).toBeGreaterThan(0);
    expect({ lost: run.summary.kernelLost, dropped: run.summary.kernelDropped }).toEqual({ lost: 0, dropped: 0 });
    expect(existsSync(dropped)).toBe(false);
  });

  /** The chain's nodes and edges in one graph, found by what they are, not by ids the test cannot know. */
  function chain(g: ProvenanceGraph) {
    const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
    const file = g.nodes.find((n) => n.kind === 'file' && n.path === dropped);
    const shadow = g.nodes.find((n) => n.kind === 'file' && n.path === '/etc/shadow');
    const endpoint = g.nodes.find((n) => n.kind === 'endpoint' && n.ip === '127.0.0.1' && n.port === listenerPort);
    const edges = (kind: string, pred: (e: GraphEdge) => boolean) => g.edges.filter((e) => e.kind === kind && pred(e));
    const write = file && edges('write', (e) => e.target === file.id && byId.get(e.source)?.executable === '/usr/bin/curl')[0];
    const exec = file && edges('exec', (e) => e.source === file.id)[0];
    const script = exec ? byId.get(exec.target) : undefined;
    const read = shadow && script && edges('read', (e) => e.source === shadow.id && e.target === script.id)[0];
    const connect = endpoint && script && edges('connect', (e) => e.source === script.id && e.target === endpoint.id)[0];
    const chmod = file && edges('chmod', (e) => e.target === file.id)[0];
    const remove = file && edges('delete', (e) => e.target === file.id)[0];
    return { byId, file, shadow, endpoint, script, write, exec, read, connect, chmod, remove };
  }

  const rulesOf = (n: GraphNode | undefined) => new Set((n?.flags ?? []).map((f) => f.rule));

  for (const reduce of [true, false]) {
    const flag = reduce ? [] : ['--no-reduce'];
    const label = reduce ? 'reduced' : 'unreduced';

    test(`backward from the listener's endpoint (${label}): curl → file → exec → shadow read → connect, in order, flagged`, () => {
      const g = graph(['--events-dir', eventsDir, '--poi', `ip:127.0.0.1:${listenerPort}`, ...flag]);
      const c = chain(g);
      expect(c.endpoint?.poi).toBe(true);
      expect(c.file).toBeDefined();
      expect(c.write).toBeDefined();
      expect(c.exec).toBeDefined();
      expect(c.exec!.script).toBe(true); // bash started on the script (shebang): the script is the exec edge's file
      expect(c.read).toBeDefined();
      expect(c.connect).toBeDefined();
      // in time order, through the file that links curl to the script's process
      expect(c.write!.first <= c.exec!.first).toBe(true);
      expect(c.exec!.first <= c.read!.first).toBe(true);
      expect(c.read!.first <= c.connect!.first).toBe(true);
      if (c.chmod) expect(c.write!.first <= c.chmod.first && c.chmod.first <= c.exec!.first).toBe(true);
      for (const e of [c.write!, c.exec!, c.read!, c.connect!]) expect(e.attack_path).toBe(true);
      // the processes: curl (the downloader) was started by the shell that then ran the script — `bash -c 'a && b && c'`
      // forks for curl and chmod and execs the last command itself, so the script runs in that shell's process
      const curl = c.byId.get(c.write!.source)!;
      expect(curl.executable).toBe('/usr/bin/curl');
      const spawnOfCurl = g.edges.find((e) => e.kind === 'spawn' && e.target === curl.id)!;
      expect(spawnOfCurl.source).toBe(c.script!.id);
      expect(spawnOfCurl.first <= c.write!.first).toBe(true);
      // flags
      expect(rulesOf(c.script)).toContain('exec-from-writable-location');
      expect(rulesOf(c.script)).toContain('credential-read');
      expect(rulesOf(c.script)).toContain('exfiltration-after-credential-read');
      expect(c.read!.flags?.some((f) => f.rule === 'credential-read' && f.technique === 'T1003.008')).toBe(true);
      expect(c.connect!.flags?.some((f) => f.rule === 'exfiltration-after-credential-read' && f.technique === 'T1041')).toBe(true);
      // the summary tells it in order
      const lines = g.summary.map((s) => s.text);
      const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
      expect(at(`wrote ${dropped}`)).toBeGreaterThanOrEqual(0);
      expect(at('/etc/shadow')).toBeGreaterThan(at(`wrote ${dropped}`));
      expect(at(`127.0.0.1:${listenerPort}`)).toBeGreaterThan(at('/etc/shadow'));
      if (reduce) expect(g.stats.edges).toBeLessThan(g.stats.edges_before);
      else expect(g.stats.edges).toBe(g.stats.edges_before);
    });

    test(`forward from the fetched file (${label}): exec → connect, and the self-deletion`, () => {
      const g = graph(['--events-dir', eventsDir, '--poi', `file:${dropped}`, '--direction', 'forward', ...flag]);
      const c = chain(g);
      expect(c.file?.poi).toBe(true);
      expect(c.exec).toBeDefined();
      expect(c.connect).toBeDefined();
      expect(c.remove).toBeDefined();
      expect(c.exec!.first <= c.connect!.first && c.connect!.first <= c.remove!.first).toBe(true);
      const rm = c.byId.get(c.remove!.source)!;
      expect(rm.executable).toBe('/usr/bin/rm');
      expect(g.edges.some((e) => e.kind === 'spawn' && e.source === c.script!.id && e.target === rm.id)).toBe(true);
      expect(rulesOf(c.script)).toContain('exec-from-writable-location');
      expect(rulesOf(c.script)).toContain('exfiltration-after-credential-read');
      const selfDelete = g.nodes.filter((n) => rulesOf(n).has('self-deletion'));
      expect(selfDelete.length).toBeGreaterThan(0);
      expect(c.remove!.flags?.some((f) => f.rule === 'self-deletion' && f.technique === 'T1070.004')).toBe(true);
      for (const e of [c.exec!, c.connect!, c.remove!]) expect(e.attack_path).toBe(true);
      // and the process that executed the file is the one curl's file led to, not an older run of the same path
      expect(c.script!.args?.some((a) => a === dropped)).toBe(true);
    });
  }

});
