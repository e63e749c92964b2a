/**
 * The Elasticsearch EventSource bound to the official client (the CLI's: es_config's nodes, auth and TLS).
 * The query DSL, point-in-time paging and the exactness argument live in kibana-plugin/common/graph/es-source.ts,
 * the client binding and store summary in kibana-plugin/common/search/es-store.ts, shared with the Kibana routes.
 */
import type { Client } from '@elastic/elasticsearch';
import { DEFAULT_INDEX, EsSearchSource, type EsSourceOptions, type PitSearch } from '../../../kibana-plugin/common/graph/es-source.ts';
import { clientPitSearch, esStoreInfo } from '../../../kibana-plugin/common/search/es-store.ts';

export { buildEventQuery as buildQuery, DEFAULT_INDEX } from '../../../kibana-plugin/common/graph/es-source.ts';

/** The three calls the source makes, on the official client. */
export function pitSearch(client: Client): PitSearch {
  return clientPitSearch(client);
}

export class ElasticsearchSource extends EsSearchSource {
  readonly es: Client;

  constructor(client: Client, options: EsSourceOptions = {}) {
    super(pitSearch(client), options);
    this.es = client;
  }

  /** Number of provmon documents and their time range (for messages about an empty answer). */
  info(): Promise<{ events: number; from?: string; to?: string }> {
    return esStoreInfo(this.es, this.index ?? DEFAULT_INDEX);
  }
}
