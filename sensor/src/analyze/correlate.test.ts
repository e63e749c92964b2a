import { describe, expect, test } from 'bun:test';
import type { EcsEvent, EventAction } from '../../../kibana-plugin/common/ecs.ts';
import type { FlowDocument } from '../pcap/ecs.ts';
import { FlowCorrelator } from './correlate.ts';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function syscall(action: EventAction, atMs: number, entity: string, ends: Partial<Pick<EcsEvent, 'source' | 'destination'>> = {}): EcsEvent {
  return {
    '@timestamp': iso(atMs),
    event: { kind: 'event', category: ['network'], type: ['start'], action, outcome: 'success', dataset: 'provmon.network', module: 'provmon', id: `ev-${entity}-${atMs}` },
    host: { name: 'h', id: 'h' },
    data_stream: { type: 'logs', dataset: 'provmon.network', namespace: 'default' },
    process: { pid: 1, entity_id: entity, name: entity },
    ...ends,
  };
}

let flowSeq = 0;
function flow(atMs: number, src: [string, number], dst: [string, number], transport = 'tcp'): FlowDocument {
  return {
    '@timestamp': iso(atMs + 10),
    event: { kind: 'event', category: ['network'], type: ['connection'], action: 'network_flow', dataset: 'provmon.flow', module: 'provmon', id: `f${flowSeq}`, start: iso(atMs) },
    host: { name: 'h', id: 'h' },
    data_stream: { type: 'logs', dataset: 'provmon.flow', namespace: 'default' },
    source: { ip: src[0], port: src[1] },
    destination: { ip: dst[0], port: dst[1] },
    network: { transport, bytes: 100 },
    related: { ip: [src[0], dst[0]] },
    provmon: { flow: { id: `flow${flowSeq++}`, sequence: 0, final: true, total: { bytes: 100, packets: 2, source: { bytes: 60, packets: 1 }, destination: { bytes: 40, packets: 1 } } } },
  };
}

const method = (f: FlowDocument) => (f.provmon.attribution as { method: string; confidence: number; alternatives?: string[] });

describe('flow attribution from audit documents', () => {
  test('several processes connecting to one destination: the nearest in time, with lower confidence and the others named', () => {
    const c = new FlowCorrelator(2000);
    c.observe(syscall('connection_attempted', 0, 'A', { destination: { ip: '10.0.0.9', port: 443 } }));
    c.observe(syscall('connection_attempted', 900, 'B', { destination: { ip: '10.0.0.9', port: 443 } }));
    c.seal();
    const f = flow(950, ['10.0.0.1', 40000], ['10.0.0.9', 443]);
    c.attribute(f);
    expect(f.process!.entity_id).toBe('B');
    expect(method(f)).toMatchObject({ method: 'connect_destination', confidence: 0.6, alternatives: ['A'] });
  });

  test('a server whose accept was not logged: its bind of the port names it', () => {
    const c = new FlowCorrelator(2000);
    c.observe(syscall('bind', -600_000, 'srv', { source: { ip: '0.0.0.0', port: 8443 } }));
    c.seal();
    const f = flow(0, ['192.0.2.7', 51000], ['10.0.0.1', 8443]);
    c.attribute(f);
    expect(f.process!.entity_id).toBe('srv');
    expect(method(f)).toMatchObject({ method: 'bind_local', confidence: 0.7 });
  });

  test('no socket record matches: one process with network activity nearby is a low-confidence guess; two are none', () => {
    const c = new FlowCorrelator(2000);
    c.observe(syscall('connection_attempted', 100, 'only', { destination: { ip: '10.9.9.9', port: 1 } }));
    c.seal();
    const f = flow(500, ['10.0.0.1', 40001], ['198.51.100.1', 80]);
    c.attribute(f);
    expect(method(f)).toMatchObject({ method: 'time_network_activity', confidence: 0.4 });

    const d = new FlowCorrelator(2000);
    d.observe(syscall('connection_attempted', 100, 'one', { destination: { ip: '10.9.9.9', port: 1 } }));
    d.observe(syscall('connection_attempted', 200, 'two', { destination: { ip: '10.9.9.9', port: 2 } }));
    d.seal();
    const g = flow(500, ['10.0.0.1', 40002], ['198.51.100.1', 80]);
    d.attribute(g);
    expect(g.process).toBeUndefined();
    expect(method(g)).toMatchObject({ method: 'none', confidence: 0 });
    expect(d.unattributed[0]).toMatchObject({ source: '10.0.0.1:40002', destination: '198.51.100.1:80', candidates: ['one', 'two'] });
  });

  test('a log with execs only: the one process started just before the flow', () => {
    const c = new FlowCorrelator(2000);
    const exec = syscall('exec', 300, 'wget');
    exec.event.dataset = 'provmon.process';
    c.observe(exec);
    c.seal();
    const f = flow(400, ['10.0.0.1', 40003], ['203.0.113.5', 80]);
    c.attribute(f);
    expect(f.process!.entity_id).toBe('wget');
    expect(method(f)).toMatchObject({ method: 'time_exec', confidence: 0.3 });
  });

  test('outside the tolerance nothing matches; failed syscalls are no evidence; later reports reuse the decision', () => {
    const c = new FlowCorrelator(1000);
    c.observe(syscall('connection_attempted', 0, 'late', { destination: { ip: '10.0.0.9', port: 22 } }));
    const failed = syscall('connection_attempted', 5000, 'failed', { destination: { ip: '10.0.0.9', port: 22 } });
    failed.event.outcome = 'failure';
    c.observe(failed);
    c.seal();
    const f = flow(5000, ['10.0.0.1', 40004], ['10.0.0.9', 22]);
    f.provmon.flow.final = false;
    c.attribute(f);
    expect(method(f).method).toBe('none');
    const again = flow(5000, ['10.0.0.1', 40004], ['10.0.0.9', 22]);
    again.provmon.flow.id = f.provmon.flow.id;
    c.attribute(again);
    expect(c.stats.flows).toBe(1);
    expect(c.stats.unattributed).toBe(1);
  });

  test('observations are bounded: the oldest go first and are counted', () => {
    const c = new FlowCorrelator(2000, 3);
    for (let i = 0; i < 5; i++) c.observe(syscall('connection_attempted', i * 10_000, `p${i}`, { destination: { ip: '10.0.0.9', port: 80 } }));
    c.seal();
    expect(c.stats.observations_evicted).toBe(2);
    const f = flow(0, ['10.0.0.1', 40005], ['10.0.0.9', 80]);
    c.attribute(f);
    expect(f.process).toBeUndefined();
  });
});
