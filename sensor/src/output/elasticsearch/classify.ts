/**
 * What to do with a _bulk outcome. The rule: only an error Elasticsearch attributes to one document (a mapping or
 * parsing error on that item) sends the document to the dead-letter file; everything else is retried, spooled and
 * replayed, because it is about the cluster (overloaded, down, misconfigured, wrong credentials), not the document.
 */

/** One item of a _bulk response, as filtered by the output (status and error only). */
export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string };
}

/** A _bulk request that failed as a whole. `status` is the HTTP status when there was a response. */
export class BulkRequestError extends Error {
  constructor(
    message: string,
    readonly kind: 'connection' | 'timeout' | 'http' | 'aborted' | 'other',
    readonly status?: number,
    readonly errorType?: string,
  ) {
    super(message);
    this.name = 'BulkRequestError';
  }
}

export type ItemOutcome =
  /** 200/201: written */
  | 'indexed'
  /** 409 on create: a document with this _id is already there (an earlier attempt got through) */
  | 'duplicate'
  /** 429, 502/503/504: try again after a pause */
  | 'retry'
  /** a cluster-side condition the document cannot fix (auth, missing pipeline or index): spool and replay later */
  | 'blocked'
  /** the document itself was refused (mapping, parsing): dead-letter file */
  | 'rejected';

const PIPELINE_MISSING = /pipeline with id \[[^\]]*\] does not exist|pipeline .* does not exist/i;

export function classifyItem(item: BulkItemResult): ItemOutcome {
  const { status } = item;
  if (status >= 200 && status < 300) return 'indexed';
  if (status === 409) return 'duplicate';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'retry';
  if (status === 401 || status === 403 || status === 404) return 'blocked';
  if (PIPELINE_MISSING.test(item.error?.reason ?? '')) return 'blocked';
  if (item.error?.type === 'cluster_block_exception') return 'blocked';
  return 'rejected';
}

export type RequestOutcome =
  /** transient: connection refused/reset, timeout, 429, 502/503/504, 500 */
  | 'retry'
  /** the request is too large for the cluster or a proxy: send it in halves */
  | 'split'
  /** not transient but not the documents' fault either (401, 403, unexpected 4xx): spool, replay later */
  | 'blocked';

export function classifyRequestError(error: BulkRequestError): RequestOutcome {
  if (error.kind === 'connection' || error.kind === 'timeout') return 'retry';
  if (error.status === 413) return 'split';
  if (error.status === 429 || error.status === 500 || error.status === 502 || error.status === 503 || error.status === 504) return 'retry';
  return 'blocked';
}

/** A line for the log: what failed and what to check, never credentials. */
export function describeRequestError(error: BulkRequestError, target: string): string {
  if (error.status === 401) {
    return `Elasticsearch at ${target} rejected the credentials (HTTP 401: ${error.errorType ?? 'security_exception'}); check es_config.api_key, or es_config.es_user/es_password`;
  }
  if (error.status === 403) return `Elasticsearch at ${target} refused the bulk request (HTTP 403): the user or API key may not write to logs-provmon.*`;
  if (error.status === 429) return `Elasticsearch at ${target} is pushing back (HTTP 429: ${error.errorType ?? 'too many requests'})`;
  if (error.status !== undefined) return `Elasticsearch at ${target} answered HTTP ${error.status}${error.errorType ? ` (${error.errorType})` : ''}: ${error.message}`;
  return `cannot reach Elasticsearch at ${target}: ${error.message}`;
}
