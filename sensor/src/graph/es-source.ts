/**
 * The Elasticsearch EventSource bound to the official client (the CLI's: es_config's nodes, auth and TLS).
 * The query DSL, point-in-time paging and the exactness argument live in kibana-plugin/common/graph/es-source.ts,
 * shared with the Kibana server routes; this file adds the client binding and the store summary for messages.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { DEFAULT_INDEX, EsSearchSource, type EsSourceOptions, type PitSearch } from '../../../kibana-plugin/common/graph/es-source.ts';
import { DEFAULT_DATASETS } from '../../../kibana-plugin/common/graph/source.ts';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';

export { buildEventQuery as buildQuery, DEFAULT_INDEX } from '../../../kibana-plugin/common/graph/es-source.ts';

/** The three calls the source makes, on the official client. */
export function pitSearch(client: Client): PitSearch {
  return {
    openPointInTime: (p) => client.openPointInTime(p),
    closePointInTime: (p) => client.closePointInTime(p),
    search: (p) => client.search<EcsEvent>(p as estypes.SearchRequest),
    pitExpired: (error) => {
      if (!(error instanceof errors.ResponseError)) return false;
      const text = JSON.stringify(error.body ?? '');
      return error.statusCode === 404 || text.includes('search_context_missing_exception') || text.includes('No search context found');
    },
  };
}

export class ElasticsearchSource extends EsSearchSource {
  readonly es: Client;

  constructor(client: Client, options: EsSourceOptions = {}) {
    super(pitSearch(client), options);
    this.es = client;
  }

  /** Number of provmon documents and their time range (for messages about an empty answer). */
  async info(): Promise<{ events: number; from?: string; to?: string }> {
    const r = await this.es.search({
      index: this.index ?? DEFAULT_INDEX,
      size: 0,
      ignore_unavailable: true,
      allow_no_indices: true,
      track_total_hits: true,
      query: { terms: { 'data_stream.dataset': DEFAULT_DATASETS.map((d) => `provmon.${d}`) } },
      aggs: { lo: { min: { field: '@timestamp' } }, hi: { max: { field: '@timestamp' } } },
    });
    const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
    const aggs = r.aggregations as Record<string, { value_as_string?: string }> | undefined;
    return { events: total, ...(aggs?.lo?.value_as_string ? { from: aggs.lo.value_as_string } : {}), ...(aggs?.hi?.value_as_string ? { to: aggs.hi.value_as_string } : {}) };
  }
}
