/**
 * How the output sends one _bulk request. The real one posts the NDJSON body as is (already serialized by the
 * output, so nothing is serialized twice) through the official client's transport, and maps the client's errors
 * to BulkRequestError. Unit tests substitute their own.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { BulkRequestError, type BulkItemResult } from './classify.ts';

export interface BulkTransport {
  /** Sends a _bulk body; resolves with one result per document, in order; rejects with BulkRequestError. */
  bulk(body: string, docs: number, signal?: AbortSignal): Promise<BulkItemResult[]>;
  close(): Promise<void>;
}

interface BulkResponse {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

export function toBulkRequestError(error: unknown): BulkRequestError {
  if (error instanceof BulkRequestError) return error;
  if (error instanceof errors.ResponseError) {
    const body = error.body as { error?: { type?: string; reason?: string } | string } | undefined;
    const type = typeof body?.error === 'object' ? body.error.type : undefined;
    const reason = typeof body?.error === 'object' ? body.error.reason : typeof body?.error === 'string' ? body.error : undefined;
    return new BulkRequestError(reason ?? error.message, 'http', error.statusCode, type);
  }
  if (error instanceof errors.TimeoutError) return new BulkRequestError(error.message, 'timeout');
  if (error instanceof errors.RequestAbortedError) return new BulkRequestError(error.message, 'aborted');
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) return new BulkRequestError(error.message, 'connection');
  if (error instanceof errors.ProductNotSupportedError) return new BulkRequestError(error.message, 'http', 502, 'product_not_supported');
  return new BulkRequestError(error instanceof Error ? error.message : String(error), 'other');
}

export class ClientBulkTransport implements BulkTransport {
  constructor(
    readonly client: Client,
    private readonly ownsClient = true,
  ) {}

  async bulk(body: string, docs: number, signal?: AbortSignal): Promise<BulkItemResult[]> {
    let res: BulkResponse;
    try {
      res = (await this.client.transport.request(
        {
          method: 'POST',
          path: '/_bulk',
          // statuses of every item (positions matter), error details only where there is an error
          querystring: { filter_path: 'errors,items.*.status,items.*.error.type,items.*.error.reason' },
          bulkBody: body,
        },
        signal ? { signal } : {},
      )) as BulkResponse;
    } catch (error) {
      throw toBulkRequestError(error);
    }
    const items = (res.items ?? []).map((item) => Object.values(item)[0] ?? { status: 0 });
    if (items.length !== docs) {
      throw new BulkRequestError(`_bulk answered ${items.length} items for ${docs} documents`, 'other', 502, 'bulk_item_count_mismatch');
    }
    return items;
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}
