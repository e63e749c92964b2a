/**
 * The causality rules of tracking, on hand-made event sets: what is and is not a dependency.
 */
import { describe, expect, test } from 'bun:test';
import { buildStore } from '../build.ts';
import { graphFromEvents } from '../index.ts';
import { EventFactory } from '../synthetic.ts';
import { edgeNames, edges, nodeLabels } from './helpers.ts';

/**
 * writer writes /data/f; app reads /data/a and /data/f; a late writer changes /data/f AFTER app read it but
 * BEFORE app connects out; app connects to 198.51.100.7:443, then reads /data/b.
 */
function story() {
  const f = new EventFactory();
  const shell = f.running(100, '/usr/bin/bash');
  const writer = f.spawn(shell, 101, '/usr/bin/writer');
  f.writeFile(writer, '/data/f', 10);
  const app = f.spawn(shell, 102, '/usr/bin/app');
  f.readFile(app, '/data/a');
  f.readFile(app, '/data/f');
  const late = f.spawn(shell, 103, '/usr/bin/late-writer');
  f.writeFile(late, '/data/f', 20);
  const poi = f.connect(app, '198.51.100.7', 443);
  f.send(app, '198.51.100.7', 443, 500);
  f.readFile(app, '/data/b');
  return { events: f.events, poi };
}

describe('backward tracking respects time', () => {
  test('a step after the point of interest is not a backward dependency', async () => {
    const { events } = story();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', reduce: false });
    const labels = nodeLabels(g);
    expect(labels).toContain('/data/a');
    expect(labels).toContain('/data/f');
    // read after the connect: not a cause of it
    expect(labels).not.toContain('/data/b');
    expect(edgeNames(g).some((e) => e.includes('/data/b'))).toBe(false);
  });

  test('the time bound tightens along the path: a write after the read that carried the file is not a cause', async () => {
    const { events } = story();
    const g = await graphFromEvents(events, { poi: 'ip:198.51.100.7:443', reduce: false });
    const labels = nodeLabels(g);
    // writer wrote /data/f before app read it: a cause
    expect(labels).toContain('writer[101]');
    expect(edges(g, 'write', 'writer[101]', '/data/f').length).toBeGreaterThan(0);
    // late-writer wrote /data/f after app read it (though before the connect): not a cause of the connect
    expect(labels).not.toContain('late-writer[103]');
  });

  test('an event as point of interest is bounded by its own time', async () => {
    const { events, poi } = story();
    const g = await graphFromEvents(events, { poi: `event:${poi.event.id}`, reduce: false });
    const labels = nodeLabels(g);
    expect(labels).toContain('/data/f');
    expect(labels).not.toContain('/data/b');
    expect(labels).not.toContain('late-writer[103]');
    expect(g.nodes.filter((n) => n.poi).map((n) => n.label).sort()).toEqual(['198.51.100.7:443', 'app[102]']);
  });

  test('inside one millisecond, event.sequence decides the order', async () => {
    const f = new EventFactory({ stepMs: 0 }); // every event in the same millisecond
    const shell = f.running(100, '/usr/bin/bash');
    const app = f.spawn(shell, 102, '/usr/bin/app');
    f.readFile(app, '/data/f');
    const late = f.spawn(shell, 103, '/usr/bin/late-writer');
    f.writeFile(late, '/data/f');
    f.connect(app, '198.51.100.7', 443);
    const g = await graphFromEvents(f.events, { poi: 'ip:198.51.100.7:443', reduce: false });
    expect(nodeLabels(g)).toContain('/data/f');
    expect(nodeLabels(g)).not.toContain('late-writer[103]');
  });

  test('the parent contributes only what it did before the fork', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    f.readFile(shell, '/home/u/before.txt');
    const app = f.spawn(shell, 102, '/usr/bin/app');
    f.readFile(shell, '/home/u/after.txt');
    f.connect(app, '198.51.100.7', 443);
    const g = await graphFromEvents(f.events, { poi: 'ip:198.51.100.7:443', reduce: false });
    expect(nodeLabels(g)).toContain('/home/u/before.txt');
    expect(nodeLabels(g)).not.toContain('/home/u/after.txt');
  });
});

describe('forward tracking respects time', () => {
  test('a read that happened before the write is not an effect of the write', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const early = f.spawn(shell, 101, '/usr/bin/early-reader');
    f.readFile(early, '/data/f');
    const writer = f.spawn(shell, 102, '/usr/bin/writer');
    f.open(writer, '/data/f', ['O_WRONLY']);
    const write = f.write(writer, '/data/f', 99);
    const reader = f.spawn(shell, 103, '/usr/bin/reader');
    f.readFile(reader, '/data/f');
    const g = await graphFromEvents(f.events, { poi: `event:${write.event.id}`, direction: 'forward', reduce: false });
    expect(nodeLabels(g)).toContain('reader[103]');
    expect(nodeLabels(g)).not.toContain('early-reader[101]');
  });

  test('opens folded by the kernel (provmon.count > 1) last until their last open: a write inside that span reaches the reader', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const poller = f.spawn(shell, 101, '/usr/bin/poller');
    const folded = f.open(poller, '/data/f');
    const once = f.spawn(shell, 102, '/usr/bin/once');
    f.open(once, '/data/f');
    f.wait(1000);
    const writer = f.spawn(shell, 103, '/usr/bin/writer');
    const write = f.write(writer, '/data/f', 99);
    f.wait(1000);
    // the poller's fold: its first open before the write, its last one after it (as the sensor writes a fold)
    folded.event.start = folded['@timestamp'];
    folded.event.end = f.time;
    folded.provmon = { ...folded.provmon, count: 40 };
    const g = await graphFromEvents(f.events, { poi: `event:${write.event.id}`, direction: 'forward', reduce: false });
    expect(nodeLabels(g)).toContain('poller[101]');
    // a single open before the write is not an effect of it
    expect(nodeLabels(g)).not.toContain('once[102]');
    // backward, the same span: the fold's later opens may have read what was written, the single open did not
    const back = await graphFromEvents(f.events, { poi: `event:${folded.event.id}`, direction: 'backward', reduce: false });
    expect(nodeLabels(back)).toContain('writer[103]');
    const onceOpen = f.events.find((e) => e.process?.pid === 102 && e.event.action === 'open')!;
    const backOnce = await graphFromEvents(f.events, { poi: `event:${onceOpen.event.id}`, direction: 'backward', reduce: false });
    expect(nodeLabels(backOnce)).not.toContain('writer[103]');
  });
});

describe('identity', () => {
  test('pid reuse: two processes with one pid are two nodes and never share dependencies', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const first = f.spawn(shell, 200, '/usr/bin/first');
    f.readFile(first, '/secret/one');
    f.end(first);
    f.wait(5000);
    const second = f.spawn(shell, 200, '/usr/bin/second');
    f.readFile(second, '/data/two');
    f.connect(second, '198.51.100.7', 443);
    expect(first.entityId).not.toBe(second.entityId);

    const store = buildStore(f.events);
    const with200 = [...store.nodes.values()].filter((n) => n.kind === 'process' && n.pid === 200);
    expect(with200.length).toBe(2);

    const back = await graphFromEvents(f.events, { poi: 'ip:198.51.100.7:443', reduce: false });
    expect(nodeLabels(back)).toContain('/data/two');
    expect(nodeLabels(back)).not.toContain('/secret/one');
    expect(nodeLabels(back)).not.toContain('first[200]');

    const fwd = await graphFromEvents(f.events, { poi: 'file:/secret/one', direction: 'forward', reduce: false });
    expect(nodeLabels(fwd)).toContain('first[200]');
    expect(nodeLabels(fwd)).not.toContain('198.51.100.7:443');
    expect(nodeLabels(fwd)).not.toContain('second[200]');
  });
});
