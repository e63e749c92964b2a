import { describe, expect, test } from 'bun:test';
import type { Dataset } from '../../../kibana-plugin/common/ecs.ts';
import { DATASET_GROUPS, FIELD_GROUPS, leafPaths, mergeProperties, SOURCE_ONLY_OBJECTS } from '../setup/assets/mappings.ts';
import { PROVMON_VERSION } from '../version.ts';
import { HealthReporter, type HealthSample } from './health.ts';

const host = { id: '0123456789abcdef0123456789abcdef', name: 'web-1', bootTimeMs: 0 };
const totals = (n: number): Record<Dataset, number> => ({ process: n, file: 10 * n, network: 2 * n, flow: 0, dns: 0, health: 0, audit: 0 });

function sample(atMs: number, n: number, over: Partial<HealthSample> = {}): HealthSample {
  return {
    atMs,
    totals: totals(n),
    capture: undefined,
    features: [],
    pcap: undefined,
    output: { name: 'local', counters: { written: 13 * n, evicted: 0 } },
    rssBytes: 100 << 20,
    enabled: { ebpf: true, pcap: true },
    ...over,
  };
}

/** Leaf paths of a document, arrays as leaves (as Elasticsearch maps them). */
function docPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => docPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('health documents', () => {
  test('rates are per second since the previous document, totals since start', () => {
    const reporter = new HealthReporter({ host, namespace: 'default', startedAtMs: 1_000_000 });
    const first = reporter.document(sample(1_005_000, 50)).provmon!.health!;
    expect(first.events_per_s).toEqual({ process: 10, file: 100, network: 20, flow: 0, dns: 0 });
    const second = reporter.document(sample(1_010_000, 60)).provmon!.health!;
    expect(second.events_per_s.file).toBe(20);
    expect(second.events_total.file).toBe(600);
    expect(second.uptime_s).toBe(10);
    expect(second.interval_s).toBe(5);
  });

  test('ECS shape: a metric in logs-provmon.health-<ns>, with host and agent version fields, ids that do not repeat', () => {
    const reporter = new HealthReporter({ host, namespace: 'prod', startedAtMs: 0 });
    const a = reporter.document(sample(5000, 1));
    const b = reporter.document(sample(10_000, 2));
    expect(a.data_stream).toEqual({ type: 'logs', dataset: 'provmon.health', namespace: 'prod' });
    expect(a.event).toMatchObject({ kind: 'metric', category: ['host'], type: ['info'], action: 'sensor_health', dataset: 'provmon.health' });
    expect(a.host).toMatchObject({ name: 'web-1', id: host.id });
    expect(a.agent).toMatchObject({ type: 'provmon', version: PROVMON_VERSION, name: 'web-1' });
    expect(a.agent!.id).toBe(new HealthReporter({ host, namespace: 'prod', startedAtMs: 0 }).agentId);
    expect(a.agent!.ephemeral_id).not.toBe(new HealthReporter({ host, namespace: 'prod', startedAtMs: 0 }).ephemeralId);
    expect(a.event.id).not.toBe(b.event.id);
  });

  test('drops per class, losses, pcap drops, spool and fallbacks are reported, and a blind sensor shows it', () => {
    const reporter = new HealthReporter({ host, namespace: 'default', startedAtMs: 0 });
    const kernel = { dropped: 9, droppedCritical: 1, droppedNet: 0, droppedHigh: 3, droppedLow: 5, lost: 2, queueBytes: 4096, queueFullWaits: 7 };
    const doc = reporter.document(
      sample(5000, 1, {
        capture: { kernel: kernel as never, ringPendingBytes: 512, processes: 3, unattributedIo: 0 },
        features: [{ feature: 'iter', using: 'tracepoint-flush', fallbackReason: 'the kernel refused flush_io' }],
        pcap: { received: 100, dropped: 4, interfaceDropped: 1 },
        output: { name: 'elasticsearch', counters: { spool_bytes: 2048, dropped: 6 } },
      }),
    );
    const h = doc.provmon!.health!;
    expect(h.ring).toEqual({ dropped: 9, dropped_by_class: { critical: 1, net: 0, high: 3, low: 5 }, lost: 2, pending_bytes: 512 });
    expect(h.queue).toEqual({ bytes: 4096, full_waits: 7 });
    expect(h.pcap).toEqual({ received: 100, dropped: 4, interface_dropped: 1 });
    expect(h.output).toMatchObject({ name: 'elasticsearch', spool_bytes: 2048, dropped: 6 });
    expect(h.features).toEqual({ iter: 'tracepoint-flush' });
    expect(h.fallbacks).toEqual(['iter']);
  });

  test('every field of a health document is mapped by the health index template, except the free-form ones', () => {
    const doc = new HealthReporter({ host, namespace: 'default', startedAtMs: 0 }).document(
      sample(5000, 1, { features: [{ feature: 'iter', using: 'iter' }] }),
    );
    const mapped = new Set(leafPaths(mergeProperties(...DATASET_GROUPS.health.map((g) => FIELD_GROUPS[g]))));
    const unmapped = docPaths(doc).filter((p) => !mapped.has(p));
    expect(unmapped.filter((p) => !SOURCE_ONLY_OBJECTS.some((o) => p.startsWith(`${o}.`)))).toEqual([]);
    expect(unmapped.length).toBeGreaterThan(0); // the source-only objects are there, in _source
  });
});
