import { describe, expect, test } from 'bun:test';
import { makeEvent } from '../../../test/support/events.ts';
import { SocketAttribution } from './socket-attribution.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const proc = (pid: number, name: string) => ({ pid, entity_id: `E${pid}`, name, executable: `/usr/bin/${name}` });
const tcp = { transport: 'tcp', type: 'ipv4' as const };

function loopbackPair() {
  const connect = makeEvent('network', 'connection_attempted', T0, {
    process: proc(10, 'curl'),
    source: { ip: '127.0.0.1', port: 40000 },
    destination: { ip: '127.0.0.1', port: 8080 },
    network: tcp,
  });
  const accept = makeEvent('network', 'connection_accepted', T0 + 1, {
    process: proc(20, 'httpd'),
    source: { ip: '127.0.0.1', port: 40000 },
    destination: { ip: '127.0.0.1', port: 8080 },
    network: tcp,
  });
  return { connect, accept };
}

const flow = (srcPort: number, dstPort: number, srcIp = '127.0.0.1', dstIp = '127.0.0.1') =>
  makeEvent('flow', 'network_flow', T0 + 100, { source: { ip: srcIp, port: srcPort }, destination: { ip: dstIp, port: dstPort }, network: tcp });

describe('flow to process attribution', () => {
  test('a flow inherits the process that connected; on loopback the acceptor is kept as the responder', () => {
    const a = new SocketAttribution(60_000);
    const { connect, accept } = loopbackPair();
    a.observe(connect);
    a.observe(accept);
    const f = flow(40000, 8080);
    a.attribute(f);
    expect(f.process?.entity_id).toBe('E10');
    expect((f.provmon?.responder_process as { entity_id: string }).entity_id).toBe('E20');
    expect(a.stats).toMatchObject({ flows: 1, attributed: 1 });
  });

  test('an inbound flow is attributed to the accepting process', () => {
    const a = new SocketAttribution(60_000);
    a.observe(loopbackPair().accept);
    const f = flow(40000, 8080);
    a.attribute(f);
    expect(f.process?.name).toBe('httpd');
  });

  test('another 5-tuple is not attributed, and v4-mapped socket addresses match plain IPv4 packets', () => {
    const a = new SocketAttribution(60_000);
    a.observe(
      makeEvent('network', 'connection_attempted', T0, {
        process: proc(30, 'python3'),
        source: { ip: '::ffff:10.0.0.5', port: 5555 },
        destination: { ip: '::ffff:10.0.0.9', port: 443 },
        network: tcp,
      }),
    );
    const other = flow(5556, 443, '10.0.0.5', '10.0.0.9');
    a.attribute(other);
    expect(other.process).toBeUndefined();
    const same = flow(5555, 443, '10.0.0.5', '10.0.0.9');
    a.attribute(same);
    expect(same.process?.entity_id).toBe('E30');
    expect(a.stats).toMatchObject({ flows: 2, attributed: 1 });
  });

  test('entries expire after the ttl and the table bound evicts and counts', () => {
    const a = new SocketAttribution(1000, 1);
    const { connect, accept } = loopbackPair();
    a.observe(connect);
    a.observe(accept);
    expect(a.stats.evicted).toBe(1);
    a.expire(T0 + 5000);
    const f = flow(40000, 8080);
    a.attribute(f);
    expect(f.process).toBeUndefined();
  });
});
