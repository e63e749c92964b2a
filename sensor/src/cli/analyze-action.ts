import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeCase, type AnalyzeProgress } from '../analyze/analyze.ts';
import { formatSummary } from '../analyze/summary.ts';
import { ensureDir, resolvePaths } from '../config/paths.ts';
import { ProvmonError } from '../errors.ts';
import { createElasticsearchOutput } from '../output/elasticsearch/output.ts';
import { INDEX_FILE } from '../output/local/local-store.ts';
import { LocalSink } from '../output/local/local-sink.ts';
import type { EventSink } from '../output/sink.ts';
import type { AnalyzeFlags } from './analyze.ts';
import { openContext } from './context.ts';

export async function analyzeAction(flags: AnalyzeFlags): Promise<void> {
  if (flags.eventsDir && flags.es) throw new ProvmonError('--events-dir and --es name two cases; give one', { exitCode: 2 });
  if (!flags.eventsDir && !flags.es) {
    throw new ProvmonError('where should the case go? give --events-dir <dir> (a local store) or --es <url> --namespace <ns>', { exitCode: 2 });
  }
  if (!flags.pcap && !flags.auditLog?.length) throw new ProvmonError('nothing to analyze: give --pcap, --audit-log, or both', { exitCode: 2 });
  const { loaded, log } = openContext(flags, {
    'es_config.hosts': { value: flags.es ? [flags.es] : undefined, flag: '--es' },
    'es_config.namespace': { value: flags.namespace, flag: '--namespace' },
    events_dir: { value: flags.eventsDir, flag: '--events-dir' },
  });
  const config = loaded.config;
  let sink: EventSink;
  let where: string;
  if (flags.es) {
    sink = createElasticsearchOutput(config, resolvePaths(config), log);
    where = `Elasticsearch ${flags.es}, logs-provmon.*-${config.es_config.namespace}`;
  } else {
    const dir = resolve(flags.eventsDir!);
    ensureDir(dir);
    if (existsSync(join(dir, INDEX_FILE))) log.warn({ events_dir: dir }, 'the directory already holds a store: the case is added to what is there');
    sink = new LocalSink({ dir, rotateBytes: config.local_config.rotate_mb * 1024 * 1024, maxFiles: config.local_config.max_files });
    where = `local store ${dir}`;
  }
  let lastProgress = 0;
  const progress = (p: AnalyzeProgress) => {
    const now = Date.now();
    if (now - lastProgress < 1000) return;
    lastProgress = now;
    const pct = p.bytes !== undefined && p.totalBytes ? ` (${Math.round((p.bytes / p.totalBytes) * 100)} %)` : '';
    log.info({ phase: p.phase, bytes: p.bytes, packets: p.packets, documents: p.documents }, `${p.phase}: ${p.bytes !== undefined ? `${p.bytes} bytes${pct}` : `${p.packets} packets`}, ${p.documents} documents`);
  };
  let summary;
  try {
    summary = await analyzeCase({
      ...(flags.pcap ? { pcap: { path: flags.pcap } } : {}),
      audit: (flags.auditLog ?? []).map((path) => ({ path })),
      sink,
      namespace: config.es_config.namespace,
      ...(flags.hostName ? { hostName: flags.hostName } : {}),
      toleranceMs: flags.tolerance * 1000,
      pipeline: {
        flowTimeoutSec: config.pcap_config.flow_timeout,
        flushIntervalSec: config.pcap_config.flush_interval,
        dnsCacheTtlSec: config.pcap_config.dns_cache_ttl,
        maxFlows: config.pcap_config.max_flows,
        dnsQueryEvents: config.pcap_config.dns_query_events,
      },
      onProgress: progress,
    });
  } finally {
    // what was written before a failure stays: the sink is flushed and closed either way
    await sink.close();
  }
  const sinkStats = sink.stats();
  if (sinkStats.dropped) log.warn({ dropped: sinkStats.dropped }, 'the output dropped documents (see its counters)');
  const text = flags.json ? `${JSON.stringify({ ...summary, output: sinkStats }, null, 2)}\n` : formatSummary(summary, where);
  await new Promise<void>((done, fail) => process.stdout.write(text, (error) => (error ? fail(error) : done())));
}
