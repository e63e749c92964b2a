/**
 * Pipes and unix-socket connections: the writer and the reader meet at one channel node, and tracking goes
 * through it in time order.
 */
import { describe, expect, test } from 'bun:test';
import { graphFromEvents } from '../index.ts';
import { EventFactory } from '../synthetic.ts';
import { connected, edges, node, nodeLabels } from './helpers.ts';

/** bash runs `curl -s http://127.0.0.1:8000/s.sh | sh`; the script connects to a local listener on 9000. */
function curlPipeSh() {
  const f = new EventFactory();
  const bash = f.running(100, '/usr/bin/bash', { args: ['bash'] });
  const curl = f.spawn(bash, 101, '/usr/bin/curl', ['curl', '-s', 'http://127.0.0.1:8000/s.sh']);
  const sh = f.spawn(bash, 102, '/usr/bin/sh', ['sh']);
  f.connect(curl, '127.0.0.1', 8000, { fd: 5 });
  f.receive(curl, '127.0.0.1', 8000, 300, 5);
  f.channelWrite(curl, 'pipe:[4242]', 300);
  f.channelRead(sh, 'pipe:[4242]', 300);
  const nc = f.spawn(sh, 103, '/usr/bin/nc', ['nc', '127.0.0.1', '9000']);
  f.connect(nc, '127.0.0.1', 9000, { fd: 3 });
  f.send(nc, '127.0.0.1', 9000, 20, 3);
  // an unrelated pipe written later by another process: not a cause of anything before it
  const late = f.spawn(bash, 104, '/usr/bin/cat', ['cat']);
  f.channelWrite(late, 'pipe:[4242]', 10);
  return f.events;
}

describe('channels (pipes and unix sockets)', () => {
  test('backward from the listener endpoint reaches curl and the download endpoint through the pipe', async () => {
    const g = await graphFromEvents(curlPipeSh(), { poi: 'ip:127.0.0.1:9000', direction: 'backward' });
    const pipe = node(g, 'pipe:[4242]');
    expect(pipe?.kind).toBe('channel');
    expect(pipe?.channel).toBe('pipe');
    expect(edges(g, 'write', 'curl[101]', 'pipe:[4242]').length).toBe(1);
    expect(edges(g, 'read', 'pipe:[4242]', 'sh[102]').length).toBe(1);
    expect(connected(g, node(g, '127.0.0.1:8000')!.id, node(g, '127.0.0.1:9000')!.id)).toBe(true);
    expect(nodeLabels(g)).toContain('127.0.0.1:8000');
    // the write after the read is not a cause
    expect(nodeLabels(g)).not.toContain('cat[104]');
  });

  test('forward from curl reaches the shell and its connection through the pipe', async () => {
    const events = curlPipeSh();
    const curl = events.find((e) => e.process?.pid === 101)!.process!.entity_id;
    const g = await graphFromEvents(events, { poi: `process:${curl}`, direction: 'forward' });
    expect(nodeLabels(g)).toContain('sh[102]');
    expect(nodeLabels(g)).toContain('127.0.0.1:9000');
  });

  test('a unix-socket connection joins a client and a local service the same way', async () => {
    const f = new EventFactory();
    const client = f.running(200, '/usr/bin/python3', { args: ['python3', 'client.py'] });
    const server = f.running(300, '/usr/sbin/svc', { args: ['svc'] });
    f.channelWrite(client, 'unix-socket:[00ff00ff00ff00ff]', 40);
    f.channelRead(server, 'unix-socket:[00ff00ff00ff00ff]', 40);
    f.writeFile(server, '/var/lib/svc/state');
    const g = await graphFromEvents(f.events, { poi: 'file:/var/lib/svc/state', direction: 'backward' });
    expect(node(g, 'unix-socket:[00ff00ff00ff00ff]')?.channel).toBe('unix_socket');
    expect(nodeLabels(g)).toContain('python3[200]');
  });
});
