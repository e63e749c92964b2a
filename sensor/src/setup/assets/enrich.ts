/**
 * DNS enrichment of flows across hosts: an enrich policy over the dns data streams, keyed by the resolved IP.
 * The flow pipeline looks up `destination.ip` and fills `destination.domain` when the sensor left it empty (the
 * sensor fills it itself from its own passive-DNS cache when it saw the answer; this covers answers another host saw).
 *
 * Enrich policies cannot be updated, so the name carries a hash of the body: a changed policy is a new policy,
 * the pipeline is repointed, and `provmon setup` deletes the superseded one.
 * Elasticsearch never re-executes a policy by itself: the sensor does it every es_config.enrich_refresh_interval
 * seconds, or `provmon setup --refresh-enrich` from cron (docs/elasticsearch.md).
 */
import { bodyHash } from './meta.ts';
import type { EnrichPolicyBody } from './types.ts';

export const ENRICH_POLICY_PREFIX = 'provmon-dns-by-ip-';
/** Where the flow pipeline puts the lookup result before copying the domain out of it (removed afterwards). */
export const ENRICH_TARGET = 'provmon.dns_enrichment';

const body = {
  match: {
    indices: ['logs-provmon.dns-*'],
    match_field: 'dns.resolved_ip',
    enrich_fields: ['dns.question.name', 'dns.question.registered_domain'],
    // answers of the last day only: addresses move between names (CDNs, cloud), old answers mislead
    query: { bool: { filter: [{ exists: { field: 'dns.resolved_ip' } }, { range: { '@timestamp': { gte: 'now-1d' } } }] } },
  },
} satisfies EnrichPolicyBody;

export function enrichPolicy(): { name: string; body: EnrichPolicyBody } {
  return { name: `${ENRICH_POLICY_PREFIX}${bodyHash(body).slice(0, 8)}`, body };
}
