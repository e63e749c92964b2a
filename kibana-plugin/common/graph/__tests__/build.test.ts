/**
 * Events → steps: the mapping from the sensor's documents (ecs.ts) to edges.
 */
import { describe, expect, test } from 'bun:test';
import { buildStore, openAccess } from '../build.ts';
import { fileNodeId, processNodeId } from '../model.ts';
import { matchesQuery, MemorySource } from '../source.ts';
import { EventFactory } from '../synthetic.ts';

describe('events to steps', () => {
  test('every edge kind comes from its event action', () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const p = f.spawn(shell, 101, '/usr/bin/tool');
    f.readFile(p, '/etc/hosts');
    f.writeFile(p, '/tmp/out');
    f.renameFile(p, '/tmp/out', '/tmp/out2');
    f.chmod(p, '/tmp/out2', '0755');
    f.unlink(p, '/tmp/out2');
    f.connect(p, '192.0.2.1', 80, { fd: 5 });
    f.accept(p, '192.0.2.9', 5555, { ip: '192.0.2.2', port: 22 }, 6);
    const store = buildStore(f.events);
    const kinds = new Set([...store.steps.values()].map((s) => s.kind));
    expect([...kinds].sort()).toEqual(['accept', 'chmod', 'connect', 'delete', 'exec', 'read', 'rename', 'spawn', 'write']);
    const rename = [...store.steps.values()].find((s) => s.kind === 'rename')!;
    expect(rename.source).toBe(fileNodeId('host-1', '/tmp/out'));
    expect(rename.target).toBe(fileNodeId('host-1', '/tmp/out2'));
    expect(rename.by).toBe(processNodeId(p.entityId));
    const spawn = [...store.steps.values()].find((s) => s.kind === 'spawn')!;
    expect(spawn.source).toBe(processNodeId(shell.entityId));
    expect(spawn.target).toBe(processNodeId(p.entityId));
  });

  test('send/receive bytes land on the connect or accept edge of their socket, in the right direction', () => {
    const f = new EventFactory();
    const p = f.running(100, '/usr/sbin/server');
    f.connect(p, '192.0.2.1', 443, { fd: 5 });
    f.send(p, '192.0.2.1', 443, 100, 5);
    f.receive(p, '192.0.2.1', 443, 2000, 5);
    f.accept(p, '192.0.2.9', 5555, { ip: '192.0.2.2', port: 22 }, 6);
    // on an accepted socket the peer may be reported as destination; the fd says which socket it is
    f.receive(p, '192.0.2.9', 5555, 300, 6);
    f.send(p, '192.0.2.9', 5555, 4000, 6);
    const steps = [...buildStore(f.events).steps.values()];
    const sent = steps.filter((s) => s.sent).map((s) => `${s.kind} ${s.flow} ${s.sent}`);
    const received = steps.filter((s) => s.received).map((s) => `${s.kind} ${s.flow} ${s.received}`);
    // connect edge is process→endpoint: sending flows st, receiving ts; accept edge is endpoint→process: reversed
    expect(sent.sort()).toEqual(['accept ts 4000', 'connect st 100']);
    expect(received.sort()).toEqual(['accept st 300', 'connect ts 2000']);
  });

  test('open flags decide read and/or write intent', () => {
    expect(openAccess(['O_RDONLY'])).toEqual({ read: true, write: false });
    expect(openAccess(['O_WRONLY', 'O_CREAT', 'O_TRUNC'])).toEqual({ read: false, write: true });
    expect(openAccess(['O_RDWR'])).toEqual({ read: true, write: true });
    expect(openAccess(['rdonly', 'append'])).toEqual({ read: true, write: true });
    expect(openAccess(['O_RDONLY', 'O_DIRECTORY'])).toEqual({ read: false, write: false });
    expect(openAccess(undefined)).toEqual({ read: true, write: false });
  });

  test('a script run through its interpreter gets an exec edge from the script', () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash', { cwd: '/home/u' });
    const s = f.spawn({ ...shell, cwd: '/home/u' }, 101, '/usr/bin/bash', ['/bin/bash', './run.sh'], 'run.sh');
    void s;
    const execs = [...buildStore(f.events).steps.values()].filter((x) => x.kind === 'exec');
    expect(execs.map((x) => `${x.source}${x.script ? ' script' : ''}`).sort()).toEqual([fileNodeId('host-1', '/home/u/run.sh') + ' script', fileNodeId('host-1', '/usr/bin/bash')]);
  });

  test('a shebang exec (argv[0] is the script, comm its name) gets an exec edge from the script; exec -a does not', () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash', { cwd: '/home/u' });
    // what the sensor reports for execve("/tmp/d/x.sh", ["/tmp/d/x.sh"]) on a #!/bin/bash file, and for ./y.sh
    f.spawn(shell, 101, '/usr/bin/bash', ['/tmp/d/x.sh'], 'x.sh');
    f.spawn({ ...shell, cwd: '/home/u' }, 102, '/usr/bin/bash', ['./y.sh', 'arg'], 'y.sh');
    // exec -a /opt/fake bash: a path in argv[0], but the task is still named bash
    f.spawn(shell, 103, '/usr/bin/bash', ['/opt/fake'], 'bash');
    const execs = [...buildStore(f.events).steps.values()].filter((x) => x.kind === 'exec' && x.script);
    expect(execs.map((x) => x.source).sort()).toEqual([fileNodeId('host-1', '/home/u/y.sh'), fileNodeId('host-1', '/tmp/d/x.sh')]);
  });

  test('an exec without a fork implies the spawn; a later fork replaces it (one parent edge per child)', () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const child = f.fork(shell, 101);
    const forkEvent = f.events.pop()!; // deliver the fork after the exec
    f.exec(child, '/usr/bin/ls');
    f.events.push(forkEvent);
    const store = buildStore(f.events);
    const spawns = [...store.steps.values()].filter((s) => s.kind === 'spawn');
    expect(spawns.length).toBe(1);
    expect(spawns[0]!.implied).toBeUndefined();
  });

  test('failed operations make no edge; a non-blocking connect in progress is not a failure', () => {
    const f = new EventFactory();
    const p = f.running(100, '/usr/bin/tool');
    f.open(p, '/etc/secret', ['O_RDONLY'], { outcome: 'failure' });
    f.connect(p, '192.0.2.1', 80, { outcome: 'failure', error: 'EINPROGRESS' });
    f.connect(p, '192.0.2.2', 80, { outcome: 'failure', error: 'ECONNREFUSED' });
    const steps = [...buildStore(f.events).steps.values()];
    expect(steps.some((s) => s.kind === 'read')).toBe(false);
    const c1 = steps.find((s) => s.target.endsWith('192.0.2.1:80'))!;
    const c2 = steps.find((s) => s.target.endsWith('192.0.2.2:80'))!;
    expect(c1.flow).toBe('both');
    expect(c1.failed).toBeUndefined();
    expect(c2.failed).toBe(true);
  });

  test('endpoints get their domain from the event or from dns answers', () => {
    const f = new EventFactory();
    const p = f.running(100, '/usr/bin/curl');
    f.connect(p, '192.0.2.1', 443);
    f.dns(p, 'example.org', ['192.0.2.1']);
    f.connect(p, '192.0.2.5', 443, { domain: 'direct.example' });
    const store = buildStore(f.events);
    const eps = [...store.nodes.values()].filter((n) => n.kind === 'endpoint').map((n) => `${n.kind === 'endpoint' ? n.domain : ''}`);
    expect(eps.sort()).toEqual(['direct.example', 'example.org']);
  });

  test('loopback endpoints and files are per host; remote endpoints are global', () => {
    const a = new EventFactory({ host: 'a' });
    const b = new EventFactory({ host: 'b' });
    for (const f of [a, b]) {
      const p = f.running(100, '/usr/bin/tool');
      f.readFile(p, '/etc/hosts');
      f.connect(p, '127.0.0.1', 8080);
      f.connect(p, '192.0.2.1', 443);
    }
    const store = buildStore([...a.events, ...b.events]);
    const ids = [...store.nodes.keys()].filter((k) => !k.startsWith('process:')).sort();
    expect(ids).toEqual(['endpoint:192.0.2.1:443', 'endpoint:a:127.0.0.1:8080', 'endpoint:b:127.0.0.1:8080', 'file:a:/etc/hosts', 'file:b:/etc/hosts']);
  });
});

describe('source query semantics', () => {
  test('parent entity ids match only lineage events; exec matches the executable and script paths', async () => {
    const f = new EventFactory();
    const shell = f.running(100, '/usr/bin/bash');
    const child = f.spawn(shell, 101, '/usr/bin/bash', ['/bin/bash', '/tmp/x.sh'], 'x.sh');
    f.readFile(child, '/etc/hosts');
    const src = new MemorySource(f.events);
    const byParent = await src.fetch({ entityIds: [shell.entityId] });
    // shell's own state event + the child's fork and exec; not the child's read
    expect(byParent.map((e) => e.event.action).sort()).toEqual(['already_running', 'exec', 'fork']);
    const byScript = await src.fetch({ paths: ['/tmp/x.sh'] });
    expect(byScript.map((e) => e.event.action)).toEqual(['exec']);
    const none = f.events.filter((e) => matchesQuery(e, { paths: ['/usr/bin/bash'], datasets: ['file'] }));
    expect(none.length).toBe(0);
  });

  test('pages with after return every event exactly once, in order', async () => {
    const f = new EventFactory({ stepMs: 0 });
    const p = f.running(100, '/usr/bin/tool');
    for (let i = 0; i < 25; i++) f.readFile(p, `/data/${i}`);
    const src = new MemorySource(f.events);
    const seen: string[] = [];
    let after;
    for (;;) {
      const page = await src.fetch({ entityIds: [p.entityId], limit: 7, ...(after ? { after } : {}) });
      seen.push(...page.map((e) => e.event.id));
      if (page.length < 7) break;
      const last = page[page.length - 1]!;
      after = { timestamp: last['@timestamp'], sequence: last.event.sequence ?? -1, id: last.event.id };
    }
    expect(seen).toEqual(f.events.map((e) => e.event.id));
  });
});

describe('timestamps', () => {
  test('the fast path agrees with Date.parse and keeps sub-millisecond digits', async () => {
    const { parseTimestamp } = await import('../time.ts');
    for (const iso of ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '1999-12-31T12:34:56.5Z']) {
      expect(parseTimestamp(iso)).toBe(Date.parse(iso));
    }
    // microseconds survive (doubles near 1.7e12 ms resolve about a quarter of a microsecond)
    expect(parseTimestamp('2025-01-01T00:00:00.000123Z') - Date.parse('2025-01-01T00:00:00.000Z')).toBeCloseTo(0.123, 3);
    expect(parseTimestamp('2025-01-01T00:00:00.000123999Z')).toBeGreaterThan(parseTimestamp('2025-01-01T00:00:00.000123Z'));
    expect(parseTimestamp('2025-01-01T02:00:00.250+02:00')).toBe(Date.parse('2025-01-01T00:00:00.250Z'));
    expect(() => parseTimestamp('yesterday')).toThrow();
  });
});

describe('multi-host', () => {
  test('a trace on one host does not read another host\'s events for the same path', async () => {
    const a = new EventFactory({ host: 'a' });
    const b = new EventFactory({ host: 'b' });
    const pa = a.running(100, '/usr/bin/app');
    a.readFile(pa, '/etc/app.conf');
    a.connect(pa, '198.51.100.7', 443);
    const pb = b.running(100, '/usr/bin/editor');
    b.writeFile(pb, '/etc/app.conf');
    const src = new MemorySource([...a.events, ...b.events]);
    const { traceGraph } = await import('../index.ts');
    const g = await traceGraph(src, { poi: 'ip:198.51.100.7:443' });
    expect(g.nodes.some((n) => n.label.startsWith('editor'))).toBe(false);
    expect(src.log.some((l) => l.query.paths && l.query.hostIds?.join() === 'a')).toBe(true);
  });
});
