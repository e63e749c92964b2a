/**
 * The engine's Elasticsearch source bound to any client shaped like the official one (the CLI's own client, or
 * the request user's scoped client in Kibana: `asCurrentUser` has the same methods), and the store summary both
 * need for their messages. Duck-typed so that nothing here imports a client.
 */
import { datasetName } from '../ecs.ts';
import { DEFAULT_DATASETS } from '../graph/source.ts';
import { DEFAULT_INDEX, type PitSearch } from '../graph/es-source.ts';

/** The four calls used, with loose types: the official client's are richer and assignable to these. */
export interface SearchClient {
  openPointInTime(params: never): Promise<{ id: string }>;
  closePointInTime(params: never): Promise<unknown>;
  search(params: never): Promise<unknown>;
}

/** An error of the official client (ResponseError) carries `meta.statusCode` and `body`. */
export function esStatus(error: unknown): number | undefined {
  const e = error as { statusCode?: unknown; meta?: { statusCode?: unknown } } | null;
  const s = e?.meta?.statusCode ?? e?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

export function pitExpired(error: unknown): boolean {
  const status = esStatus(error);
  if (status === undefined) return false;
  const text = JSON.stringify((error as { body?: unknown; meta?: { body?: unknown } }).meta?.body ?? (error as { body?: unknown }).body ?? '');
  return status === 404 || text.includes('search_context_missing_exception') || text.includes('No search context found');
}

export function clientPitSearch(client: SearchClient): PitSearch {
  const c = client as unknown as {
    openPointInTime: PitSearch['openPointInTime'];
    closePointInTime: PitSearch['closePointInTime'];
    search: PitSearch['search'];
  };
  return {
    openPointInTime: (p) => c.openPointInTime(p),
    closePointInTime: (p) => c.closePointInTime(p),
    search: (p) => c.search(p),
    pitExpired,
  };
}

/** Number of provmon documents and their time range. */
export async function esStoreInfo(client: SearchClient, index = DEFAULT_INDEX): Promise<{ events: number; from?: string; to?: string }> {
  const search = (client as unknown as { search(p: unknown): Promise<Record<string, unknown>> }).search.bind(client);
  const r = (await search({
    index,
    size: 0,
    ignore_unavailable: true,
    allow_no_indices: true,
    track_total_hits: true,
    query: { terms: { 'data_stream.dataset': DEFAULT_DATASETS.map(datasetName) } },
    aggs: { lo: { min: { field: '@timestamp' } }, hi: { max: { field: '@timestamp' } } },
  })) as { hits: { total?: number | { value: number } }; aggregations?: Record<string, { value_as_string?: string }> };
  const total = typeof r.hits.total === 'number' ? r.hits.total : (r.hits.total?.value ?? 0);
  const aggs = r.aggregations;
  return { events: total, ...(aggs?.lo?.value_as_string ? { from: aggs.lo.value_as_string } : {}), ...(aggs?.hi?.value_as_string ? { to: aggs.hi.value_as_string } : {}) };
}
