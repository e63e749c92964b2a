/**
 * Flow rollups: a continuous pivot transform from logs-provmon.flow-* into the index provmon-flow-rollup-1m,
 * one document per minute × host × (source.ip, destination.ip, destination.port, transport, direction, domain).
 *
 * Flow reports carry deltas (sensor/src/pcap/flows.ts: packets and bytes since the previous report of the same
 * flow), so summing every report is exact. The transform syncs on `event.ingested` (set by the flow pipeline),
 * not on @timestamp: a report that arrives late (spooled during an outage) has an old @timestamp but a new
 * ingest time, so it is still picked up; its minute bucket is recomputed.
 */
import { assetMeta } from './meta.ts';
import type { IndexTemplateBody, TransformBody } from './types.ts';

export const ROLLUP_TRANSFORM = 'provmon-flow-rollup-1m';
export const ROLLUP_INDEX = 'provmon-flow-rollup-1m';
export const ROLLUP_TEMPLATE = 'provmon-flow-rollup';

const terms = (field: string) => ({ terms: { field, missing_bucket: true } });
const sum = (field: string) => ({ sum: { field } });

export function rollupTransform(retentionDays: number): TransformBody {
  const body = {
    description: 'provmon: 1-minute flow rollups (bytes, packets, reports) per host and conversation',
    source: {
      index: ['logs-provmon.flow-*'],
      query: { bool: { filter: [{ term: { 'event.action': 'network_flow' } }] } },
    },
    dest: { index: ROLLUP_INDEX },
    frequency: '1m',
    sync: { time: { field: 'event.ingested', delay: '60s' } },
    pivot: {
      group_by: {
        '@timestamp': { date_histogram: { field: '@timestamp', fixed_interval: '1m' } },
        'host.name': terms('host.name'),
        'source.ip': terms('source.ip'),
        'destination.ip': terms('destination.ip'),
        'destination.port': terms('destination.port'),
        'network.transport': terms('network.transport'),
        'network.direction': terms('network.direction'),
        'destination.domain': terms('destination.domain'),
      },
      aggregations: {
        'network.bytes': sum('network.bytes'),
        'network.packets': sum('network.packets'),
        'source.bytes': sum('source.bytes'),
        'source.packets': sum('source.packets'),
        'destination.bytes': sum('destination.bytes'),
        'destination.packets': sum('destination.packets'),
        'provmon.rollup.reports': { value_count: { field: 'event.id' } },
        'event.ingested': { max: { field: 'event.ingested' } },
      },
    },
    retention_policy: { time: { field: '@timestamp', max_age: `${retentionDays}d` } },
    // deduce_mappings off: the destination index takes the provmon-flow-rollup template's mappings (long sums, ip)
    settings: { max_page_search_size: 1000, align_checkpoints: true, unattended: true, deduce_mappings: false },
  } satisfies TransformBody;
  return { ...body, _meta: assetMeta(body, 'full') };
}

const long = { type: 'long' } as const;
const keyword = { type: 'keyword', ignore_above: 1024 } as const;

/** Mappings of the rollup index, so it does not depend on what the transform would deduce. */
export function rollupIndexTemplate(): IndexTemplateBody {
  const body = {
    index_patterns: [`${ROLLUP_INDEX}*`],
    priority: 250,
    template: {
      settings: { index: { auto_expand_replicas: '0-1', codec: 'best_compression' } },
      mappings: {
        dynamic: false,
        properties: {
          '@timestamp': { type: 'date' },
          host: { properties: { name: keyword } },
          source: { properties: { ip: { type: 'ip' }, bytes: long, packets: long } },
          destination: { properties: { ip: { type: 'ip' }, port: long, domain: keyword, bytes: long, packets: long } },
          network: { properties: { transport: keyword, direction: keyword, bytes: long, packets: long } },
          event: { properties: { ingested: { type: 'date' } } },
          provmon: { properties: { rollup: { properties: { reports: long } } } },
        },
      },
    },
    version: 1,
  } satisfies IndexTemplateBody;
  return { ...body, _meta: { ...assetMeta(body, 'full'), description: 'provmon: mappings of the 1-minute flow rollup index (written by a transform)' } };
}
