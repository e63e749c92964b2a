/**
 * A case's documents into Elasticsearch through the sensor's bulk sink (create with deterministic ids, retries,
 * a bounded disk spool in the upload's private directory, gone with it), with a client the host gives: `asCurrentUser` in
 * Kibana, the configured client in `provmon ui --es`. A case is a one-off: whatever the cluster did not take by
 * close (refused credentials, missing privileges) fails the job with the cluster's reason instead of waiting.
 */
import type { Client } from '@elastic/elasticsearch';
import { join } from 'node:path';
import { ElasticsearchBulkSink } from '../../../sensor/src/output/elasticsearch/bulk-sink.ts';
import { ClientBulkTransport } from '../../../sensor/src/output/elasticsearch/transport.ts';
import { RouteError } from '../http.ts';
import { caseIndex, caseNamespace } from './case-id.ts';
import type { CaseOutput } from './offline-api.ts';

export interface EsCaseOutputOptions {
  /** the upload's private directory (removed when the job ends) for the spool and the refused-documents file */
  dir: string;
  /** the cluster, for messages (no secrets) */
  target: string;
  closeTimeoutMs?: number;
}

export function esCaseOutput(client: Client, id: string, o: EsCaseOutputOptions): CaseOutput {
  const sink = new ElasticsearchBulkSink({
    transport: new ClientBulkTransport(client, false),
    target: o.target,
    spoolDir: join(o.dir, 'es-spool'),
    rejectedFile: join(o.dir, 'es-rejected.ndjson'),
    namespace: caseNamespace(id),
    batchMaxDocs: 1000,
    batchMaxBytes: 8 * 1024 * 1024,
    batchMaxLatencyMs: 1000,
    concurrency: 2,
    retry: { initialMs: 250, maxMs: 5000, maxAttempts: 4 },
    queueMaxBytes: 64 * 1024 * 1024,
    spoolMaxBytes: 1024 * 1024 * 1024,
    spoolWhenFull: 'drop_newest',
    spoolFsync: false,
    closeTimeoutMs: o.closeTimeoutMs ?? 10_000,
  });
  const index = caseIndex(id);
  return {
    sink,
    where: `Elasticsearch at ${o.target}, ${index}`,
    check() {
      const s = sink.stats();
      const taken = (s.indexed ?? 0) + (s.duplicates ?? 0);
      const written = s.written ?? 0;
      if (taken >= written) return;
      const reason = sink.lastError ?? `${s.rejected ?? 0} documents refused as such (mapping errors)`;
      const status = /\b403\b/.test(reason) ? 403 : /\b401\b/.test(reason) ? 401 : 502;
      const hint = status === 403 ? ': the user needs the create_doc and auto_configure privileges on logs-provmon.*-* (or on logs-provmon.*-case_*)' : '';
      throw new RouteError(status, `Elasticsearch took ${taken} of the case's ${written} documents into ${index}: ${reason}${hint}`);
    },
  };
}
