/**
 * Deterministic flow documents shaped like the sensor's (final reports with totals, earlier delta reports, some
 * flows with a process and a domain), with enough distinct hosts, addresses, ports, domains and processes that
 * every ranked chart has values beyond its top buckets. Used by the flows conformance test and the flows bench.
 */
import type { EcsEvent } from '../ecs.ts';

export interface SyntheticFlowOptions {
  flows: number;
  /** first flow start, epoch ms */
  start: number;
  /** time the flows are spread over, ms */
  spanMs: number;
  namespace?: string;
  seed?: number;
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const PORTS = [443, 80, 53, 22, 8080, 8443, 3306, 5432, 6379, 9200, 25, 123, 5601, 993, 587, 21, 445, 3389, 1883, 27017, 11211, 389, 636, 8000, 9000];
const FLAGS = ['SYN', 'ACK', 'PSH', 'FIN', 'RST', 'URG', 'ECE', 'CWR'];
const NAMES = ['curl', 'wget', 'python3', 'bash', 'sshd', 'nginx', 'node', 'apt', 'systemd-resolve', 'chrome', 'git', 'npm', 'nc', 'java', 'postgres', 'redis-server', 'dockerd', 'containerd', 'ssh', 'rsync', 'perl', 'ruby', 'go', 'php'];
const TLDS = ['com', 'net', 'org', 'io', 'top', 'xyz'];

/** An integer in [0, n) skewed to small values, so rankings have a head and a long tail. */
const skewed = (r: () => number, n: number) => Math.min(n - 1, Math.floor(n * r() * r() * r()));

export function* syntheticFlows(o: SyntheticFlowOptions): Generator<EcsEvent> {
  const r = prng(o.seed ?? 7);
  const namespace = o.namespace ?? 'default';
  for (let i = 0; i < o.flows; i++) {
    const start = o.start + Math.floor(r() * o.spanMs);
    const durationMs = Math.floor(10 ** (r() * 6)) - 1; // 0 ms … ~17 min, log-spread
    const end = start + durationMs;
    const host = skewed(r, 5);
    const transportRoll = r();
    const transport = transportRoll < 0.7 ? 'tcp' : transportRoll < 0.95 ? 'udp' : 'icmp';
    const src = `10.${host}.${skewed(r, 8)}.${1 + skewed(r, 60)}`;
    const dstN = skewed(r, 400);
    const dst = `198.51.${dstN >> 8}.${dstN & 255}`;
    const srcBytes = 60 + Math.floor(r() * r() * 2_000_000);
    const dstBytes = 60 + Math.floor(r() * r() * r() * 5_000_000);
    const srcPackets = 1 + Math.floor(srcBytes / 1200);
    const dstPackets = 1 + Math.floor(dstBytes / 1400);
    const flowId = `sf${o.seed ?? 7}-${i}`;
    const reports = r() < 0.1 ? 2 : 1; // some flows were reported once before their final report
    for (let seq = 0; seq < reports; seq++) {
      const final = seq === reports - 1;
      const share = final && reports === 2 ? 0.5 : reports === 2 ? 0.5 : 1;
      const doc: EcsEvent = {
        '@timestamp': new Date(final ? end : start + Math.floor(durationMs / 2)).toISOString(),
        event: {
          kind: 'event',
          category: ['network'],
          type: final ? ['connection', 'end'] : ['connection'],
          action: 'network_flow',
          dataset: 'provmon.flow',
          module: 'provmon',
          id: `${flowId}-${seq}`,
          start: new Date(start).toISOString(),
          end: new Date(final ? end : start + Math.floor(durationMs / 2)).toISOString(),
          duration: (final ? durationMs : Math.floor(durationMs / 2)) * 1e6,
        },
        host: { name: `host-${host}`, id: `hid-${host}` },
        data_stream: { type: 'logs', dataset: 'provmon.flow', namespace },
        source: { ip: src, bytes: Math.round(srcBytes * share), packets: Math.max(1, Math.round(srcPackets * share)) },
        destination: { ip: dst, bytes: Math.round(dstBytes * share), packets: Math.max(1, Math.round(dstPackets * share)) },
        network: { transport, type: 'ipv4', bytes: Math.round((srcBytes + dstBytes) * share), packets: srcPackets + dstPackets },
        provmon: {
          flow: {
            final,
            id: flowId,
            sequence: seq,
            state: transport === 'tcp' ? 'SF' : 'S0',
            total: { bytes: final ? srcBytes + dstBytes : Math.round((srcBytes + dstBytes) / 2), packets: final ? srcPackets + dstPackets : Math.round((srcPackets + dstPackets) / 2) },
            dns_resolved: false,
          },
        },
      } as EcsEvent;
      if (transport !== 'icmp') {
        doc.source!.port = 32768 + Math.floor(r() * 28000);
        doc.destination!.port = PORTS[skewed(r, PORTS.length)]!;
      }
      if (transport === 'tcp') doc.provmon!.flow!.tcp_flags = FLAGS.filter((_, k) => k < 2 || r() < 0.3);
      if (dstN % 3 !== 0) {
        doc.destination!.domain = `d${dstN % 97}.example.${TLDS[dstN % TLDS.length]}`;
        doc.provmon!.flow!.dns_resolved = true;
      }
      if (r() < 0.8) {
        const p = skewed(r, 60);
        doc.process = { pid: 1000 + p, entity_id: `ent-${host}-${p}`, name: NAMES[p % NAMES.length]! } as EcsEvent['process'];
      }
      yield doc;
    }
  }
}
