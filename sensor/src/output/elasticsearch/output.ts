/**
 * The sensor's Elasticsearch output as configured: the bulk sink (spool under <output_dir>/es-spool), the seed's
 * JSONL copies through the local store when `ebpf_config.file_logging_enabled` (process, file, network events)
 * or `pcap_config.file_logging_enabled` (flows, DNS) is set, and the DNS enrich policy refresh timer.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { join } from 'node:path';
import { datasetName, type Dataset, type EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { ensureDir } from '../../config/paths.ts';
import type { Config } from '../../config/schema.ts';
import { currentEnrichPolicyName } from '../../setup/assets/index.ts';
import { LocalStore } from '../local/local-store.ts';
import type { EventSink } from '../sink.ts';
import { ElasticsearchBulkSink, type SinkLog } from './bulk-sink.ts';
import { createClient, describeTarget } from './client.ts';
import { ClientBulkTransport } from './transport.ts';

export const SPOOL_SUBDIR = 'es-spool';
export const REJECTED_FILE = 'es-rejected.ndjson';

const EBPF_DATASETS: Dataset[] = ['process', 'file', 'network'];
const PCAP_DATASETS: Dataset[] = ['flow', 'dns'];

export interface OutputPaths {
  eventsDir: string;
  outputDir: string;
}

export interface OutputOverrides {
  /** Use this client (tests); it is not closed by the output. */
  client?: Client;
  spoolFsync?: boolean;
  closeTimeoutMs?: number;
}

export class ElasticsearchOutput implements EventSink {
  readonly name = 'elasticsearch';
  readonly sink: ElasticsearchBulkSink;
  readonly copies: LocalStore | undefined;
  readonly client: Client;
  private readonly copyDatasets: Set<string>;
  private enrichTimer: ReturnType<typeof setTimeout> | null = null;
  private enrichRuns = 0;
  private enrichFailures = 0;

  constructor(
    private readonly config: Config,
    paths: OutputPaths,
    private readonly log?: SinkLog,
    overrides: OutputOverrides = {},
  ) {
    const es = config.es_config;
    ensureDir(paths.outputDir);
    this.client = overrides.client ?? createClient(es);
    this.sink = new ElasticsearchBulkSink({
      transport: new ClientBulkTransport(this.client, overrides.client === undefined),
      target: describeTarget(es),
      spoolDir: join(paths.outputDir, SPOOL_SUBDIR),
      rejectedFile: join(paths.outputDir, REJECTED_FILE),
      namespace: es.namespace,
      batchMaxDocs: es.batch_size,
      batchMaxBytes: es.batch_max_bytes,
      batchMaxLatencyMs: es.batch_max_latency_ms,
      concurrency: es.concurrency,
      retry: { initialMs: es.retry_initial_ms, maxMs: es.retry_max_ms, maxAttempts: es.retry_max_attempts },
      queueMaxBytes: es.queue_max_bytes,
      spoolMaxBytes: es.spool_max_bytes,
      spoolWhenFull: es.spool_when_full,
      ...(overrides.spoolFsync !== undefined ? { spoolFsync: overrides.spoolFsync } : {}),
      ...(overrides.closeTimeoutMs !== undefined ? { closeTimeoutMs: overrides.closeTimeoutMs } : {}),
      ...(log ? { log } : {}),
    });
    const datasets = [...(config.ebpf_config.file_logging_enabled ? EBPF_DATASETS : []), ...(config.pcap_config.file_logging_enabled ? PCAP_DATASETS : [])];
    this.copyDatasets = new Set(datasets.map(datasetName));
    if (datasets.length > 0) {
      ensureDir(paths.eventsDir);
      this.copies = new LocalStore({ dir: paths.eventsDir, ...(log ? { log } : {}) });
    }
    if (es.enrich_refresh_interval > 0) this.scheduleEnrichRefresh(es.enrich_refresh_interval * 1000, true);
  }

  write(doc: EcsEvent): void {
    if (this.copies && this.copyDatasets.has(doc.event.dataset)) this.copies.write(doc);
    this.sink.write(doc);
  }

  async flush(): Promise<void> {
    this.copies?.flushFiles();
    await this.sink.flush();
  }

  async close(): Promise<void> {
    if (this.enrichTimer) clearTimeout(this.enrichTimer);
    this.enrichTimer = null;
    this.copies?.close();
    await this.sink.close();
  }

  hurry(): void {
    this.sink.hurry();
  }

  stats(): Record<string, number> {
    const s = this.sink.stats();
    if (this.copies) s.jsonl_written = Object.values(this.copies.stats.written).reduce((a, b) => a + b, 0);
    s.enrich_refreshes = this.enrichRuns;
    s.enrich_refresh_failures = this.enrichFailures;
    return s;
  }

  /**
   * Elasticsearch never re-executes an enrich policy by itself: every interval (±10 % jitter, so a fleet of
   * sensors spreads out) the output asks it to, without waiting for completion. A cluster without the policy
   * (core profile) or without the privilege stops the timer after one log line.
   */
  private scheduleEnrichRefresh(intervalMs: number, first: boolean): void {
    const delay = Math.round(intervalMs * (first ? 0.1 + Math.random() * 0.1 : 0.9 + Math.random() * 0.2));
    this.enrichTimer = setTimeout(() => void this.refreshEnrich(intervalMs), delay);
    this.enrichTimer.unref?.();
  }

  private async refreshEnrich(intervalMs: number): Promise<void> {
    const name = currentEnrichPolicyName();
    try {
      await this.client.enrich.executePolicy({ name, wait_for_completion: false });
      this.enrichRuns += 1;
      this.log?.debug({ policy: name }, 'DNS enrich policy re-executed');
    } catch (error) {
      this.enrichFailures += 1;
      const status = error instanceof errors.ResponseError ? error.statusCode : undefined;
      if (status === 404 || status === 400 || status === 405 || status === 403 || status === 401) {
        this.log?.info(
          { policy: name, status },
          `not refreshing the DNS enrich policy ${name} (HTTP ${status}): ${status === 403 || status === 401 ? 'this user may not execute it (manage_enrich)' : 'it is not installed (provmon setup without --core-only installs it)'}`,
        );
        this.enrichTimer = null;
        return;
      }
      // 409/429/5xx/connection: an execution is already running, or the cluster is busy or down; try next time
      this.log?.debug({ policy: name, status }, 'DNS enrich policy refresh failed; will try again');
    }
    if (this.enrichTimer !== null) this.scheduleEnrichRefresh(intervalMs, false);
  }
}

export function createElasticsearchOutput(config: Config, paths: OutputPaths, log?: SinkLog, overrides?: OutputOverrides): ElasticsearchOutput {
  return new ElasticsearchOutput(config, paths, log, overrides);
}
