/**
 * Connection stitching: a client's connect and the server's accept of the same connection (same 5-tuple in
 * opposite roles, close in time) join the two processes, on one host and across hosts in one store.
 */
import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../ecs.ts';
import { graphFromEvents, traceGraph } from '../index.ts';
import { MemorySource } from '../source.ts';
import { EventFactory } from '../synthetic.ts';
import { connected, node, nodeLabels } from './helpers.ts';

/** A client reads a secret and connects; the server accepts on loopback and writes what it received to a file. */
function loopback(opts: { serverDelayMs?: number; serverHost?: string } = {}) {
  const f = new EventFactory({ host: 'host-1' });
  const shell = f.running(100, '/usr/bin/bash', { args: ['bash'] });
  const client = f.spawn(shell, 101, '/usr/bin/python3', ['python3', 'client.py']);
  f.readFile(client, '/home/alice/secret');
  f.connect(client, '127.0.0.1', 8080, { fd: 3, local: { ip: '127.0.0.1', port: 50123 } });
  f.send(client, '127.0.0.1', 8080, 64, 3);
  // one factory per host: event ids are per-host sequences
  const s = opts.serverHost ? new EventFactory({ host: opts.serverHost, start: f.time }) : f;
  s.wait(opts.serverDelayMs ?? 0);
  const server = s.running(200, '/usr/sbin/svc', { args: ['svc'] });
  s.accept(server, '127.0.0.1', 50123, { ip: '127.0.0.1', port: 8080 }, 4);
  s.receive(server, '127.0.0.1', 50123, 64, 4);
  s.writeFile(server, '/var/lib/svc/received');
  return s === f ? f.events : [...f.events, ...s.events].sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));
}

describe('connection stitching', () => {
  test('backward from the file the server wrote reaches the client process, and what the client read before', async () => {
    const g = await graphFromEvents(loopback(), { poi: 'file:/var/lib/svc/received', direction: 'backward' });
    const client = node(g, 'python3[101]');
    const server = node(g, 'svc[200]');
    expect(client).toBeDefined();
    const stitch = g.edges.find((e) => e.stitched);
    expect(stitch).toMatchObject({ kind: 'connect', source: client!.id, target: server!.id });
    expect(nodeLabels(g)).toContain('/home/alice/secret');
  });

  test('forward from the client reaches the file the server wrote', async () => {
    const events = loopback();
    const client = events.find((e) => e.process?.pid === 101)!.process!.entity_id;
    const g = await graphFromEvents(events, { poi: `process:${client}`, direction: 'forward' });
    expect(nodeLabels(g)).toContain('/var/lib/svc/received');
    expect(connected(g, node(g, 'python3[101]')!.id, node(g, '/var/lib/svc/received')!.id)).toBe(true);
  });

  test('through a source: the loader asks for the other end of an accept it loaded', async () => {
    const source = new MemorySource(loopback());
    const g = await traceGraph(source, { poi: 'file:/var/lib/svc/received', direction: 'backward' });
    expect(nodeLabels(g)).toContain('python3[101]');
  });

  test('across hosts in one store: a LAN connection joins the client on one host to the server on another', async () => {
    const a = new EventFactory({ host: 'laptop' });
    const ssh = a.running(300, '/usr/bin/ssh', { args: ['ssh', 'db'] });
    a.connect(ssh, '10.0.0.2', 22, { fd: 3, local: { ip: '10.0.0.1', port: 40222 } });
    const b = new EventFactory({ host: 'db', start: a.time });
    b.wait(5);
    const sshd = b.running(400, '/usr/sbin/sshd', { args: ['sshd'] });
    b.accept(sshd, '::ffff:10.0.0.1', 40222, { ip: '::ffff:10.0.0.2', port: 22 }, 5);
    b.writeFile(sshd, '/var/log/lastlog');
    const source = new MemorySource([...a.events, ...b.events]);
    const g = await traceGraph(source, { poi: 'file:/var/log/lastlog', direction: 'backward' });
    expect(nodeLabels(g)).toContain('ssh[300]');
  });

  test('no stitch: loopback on two hosts, or the same tuple far apart in time', async () => {
    for (const events of [loopback({ serverHost: 'host-2' }), loopback({ serverDelayMs: 10 * 60_000 })]) {
      const g = await graphFromEvents(events as EcsEvent[], { poi: 'file:/var/lib/svc/received', direction: 'backward' });
      expect(g.edges.some((e) => e.stitched)).toBe(false);
      expect(nodeLabels(g)).not.toContain('python3[101]');
    }
  });
});
