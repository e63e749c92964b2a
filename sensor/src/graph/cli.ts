/**
 * `provmon graph`: open a source (the local store or Elasticsearch), trace from the point of interest with the
 * engine (kibana-plugin/common/graph), and render JSON or DOT. Errors are ProvmonErrors that say what is wrong and
 * how to go on: a malformed point of interest, a store with no events, a point of interest nothing matched (with
 * how to find entity ids), an unreachable or refusing cluster.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { join } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { poiToString, toDot, type Poi } from '../../../kibana-plugin/common/graph/index.ts';
import { checkedPoi, graphOn, matchedPoi, POI_FORMS, truncationNotice, type GraphOutput } from '../../../kibana-plugin/common/graph/request.ts';
import type { EventSource } from '../../../kibana-plugin/common/graph/source.ts';
import { ProvmonError } from '../errors.ts';
import { createClient, describeTarget, type EsConfig } from '../output/elasticsearch/client.ts';
import { DEFAULT_INDEX, ElasticsearchSource } from './es-source.ts';
import { LocalStoreSource } from './local-source.ts';

export type SourceSpec = { kind: 'local'; dir: string } | { kind: 'elasticsearch'; es: EsConfig; index?: string };

export interface GraphRequest {
  poi: string;
  direction: 'backward' | 'forward' | 'both';
  from?: string;
  to?: string;
  depth?: number;
  maxNodes?: number;
  maxEvents?: number;
  reduce: boolean;
  format: 'json' | 'dot';
  /** indent the JSON */
  pretty: boolean;
  source: SourceSpec;
  /** stderr lines for the person running it (indexing, truncation). */
  notice: (message: string) => void;
}

/** A process found by pid, for "nothing matched process:1234" (a pid is not an entity id). */
export interface ProcessCandidate {
  entity_id: string;
  pid: number;
  executable?: string;
  args?: string[];
  start?: string;
}

interface OpenSource {
  source: EventSource;
  /** "the local store in /x" / "Elasticsearch at http://… (no auth), logs-provmon.*-*" */
  where: string;
  descriptor: Record<string, string>;
  info(): Promise<{ events: number; from?: string; to?: string }>;
  processesWithPid(pid: number): Promise<ProcessCandidate[]>;
  close(): Promise<void>;
}

export type { GraphOutput };

export async function runGraph(req: GraphRequest): Promise<{ text: string; graph: GraphOutput }> {
  const poi = checkPoi(req.poi);
  if (req.from && req.to && Date.parse(req.from) > Date.parse(req.to)) {
    throw new ProvmonError(`--from ${req.from} is after --to ${req.to}`, { exitCode: 2 });
  }
  const open = await openSource(req);
  try {
    const info = await guard(req.source, () => open.info());
    if (info.events === 0) {
      throw new ProvmonError(`${open.where} holds no events`, {
        hint:
          req.source.kind === 'local'
            ? 'capture first (as root): provmon run --events-dir <dir>, then point --events-dir at that directory'
            : 'check that sensors ship to this cluster (storage_type elasticsearch) and that --index matches their data streams',
      });
    }
    const graph = await guard(req.source, () =>
      graphOn(open.source, open.descriptor, {
        poi,
        direction: req.direction,
        reduce: req.reduce,
        ...(req.from ? { from: req.from } : {}),
        ...(req.to ? { to: req.to } : {}),
        ...(req.depth ? { depth: req.depth } : {}),
        ...(req.maxNodes ? { maxNodes: req.maxNodes } : {}),
        ...(req.maxEvents ? { maxEvents: req.maxEvents } : {}),
      }),
    );
    if (!matchedPoi(graph)) throw await nothingMatched(poi, req, open, info);
    const cut = truncationNotice(graph.truncated, req, { depth: '--depth', maxNodes: '--max-nodes', maxEvents: '--max-events', window: '--from/--to' });
    if (cut) req.notice(`note: ${cut}; "truncated" in the output says which`);
    const text = req.format === 'dot' ? toDot(graph) : `${JSON.stringify(graph, null, req.pretty ? 2 : undefined)}\n`;
    return { text, graph };
  } finally {
    await open.close();
  }
}

function checkPoi(text: string): Poi {
  try {
    return checkedPoi(text);
  } catch (error) {
    const message = (error as Error).message;
    throw new ProvmonError(message.includes('IP address') ? `--poi ${text}: ${message}` : `--poi: ${message}`, {
      hint: message.includes('IP address')
        ? 'graph endpoints are addresses as the kernel saw them (resolve names first, e.g. getent hosts <name>); IPv6 with a port: ip:[::1]:8080'
        : POI_FORMS,
      exitCode: 2,
    });
  }
}

async function openSource(req: GraphRequest): Promise<OpenSource> {
  const spec = req.source;
  if (spec.kind === 'local') {
    const local = LocalStoreSource.open(spec.dir, { onNotice: req.notice });
    return {
      source: local,
      where: `the local store in ${spec.dir}`,
      descriptor: { type: 'local', events_dir: spec.dir },
      info: async () => local.info(),
      processesWithPid: async (pid) => localProcessesWithPid(local, pid),
      close: async () => local.close(),
    };
  }
  const index = spec.index ?? DEFAULT_INDEX;
  const target = describeTarget(spec.es);
  const client = createClient(spec.es);
  const es = new ElasticsearchSource(client, { index });
  return {
    source: es,
    where: `Elasticsearch at ${target}, ${index}`,
    descriptor: { type: 'elasticsearch', target, index },
    info: () => es.info(),
    processesWithPid: (pid) => esProcessesWithPid(client, index, pid),
    close: async () => {
      await es.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/** Elasticsearch errors as sentences; anything else passes through. */
async function guard<T>(spec: SourceSpec, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (spec.kind !== 'elasticsearch') throw error;
    throw esError(spec.es, error);
  }
}

export function esError(es: EsConfig, error: unknown): unknown {
  const target = describeTarget(es);
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError || error instanceof errors.TimeoutError) {
    return new ProvmonError(`cannot reach Elasticsearch at ${target}: ${error.message}`, {
      hint: 'check --es / es_config.hosts and that the cluster is up (curl -s <url>); for https, es_config.ca_file names the CA',
      cause: error,
    });
  }
  if (error instanceof errors.ProductNotSupportedError) {
    return new ProvmonError(`${target} does not answer as Elasticsearch`, { hint: 'point --es at an Elasticsearch node (8.x or 9.x)', cause: error });
  }
  if (error instanceof errors.ResponseError) {
    const body = error.body as { error?: { type?: string; reason?: string; root_cause?: { reason?: string }[] } } | undefined;
    const reason = body?.error?.root_cause?.[0]?.reason ?? body?.error?.reason ?? error.message;
    if (error.statusCode === 401) {
      return new ProvmonError(`Elasticsearch at ${target} refused the credentials (HTTP 401)`, {
        hint: 'set es_config.es_user and es_config.es_password, or es_config.api_key (config file, or PROVMON_ES_CONFIG__API_KEY in the environment)',
        cause: error,
      });
    }
    if (error.statusCode === 403) {
      return new ProvmonError(`Elasticsearch at ${target} denied the search (HTTP 403): ${reason}`, {
        hint: 'the user or API key needs the read and view_index_metadata privileges on logs-provmon.*-* (point-in-time searches)',
        cause: error,
      });
    }
    return new ProvmonError(`Elasticsearch at ${target} answered HTTP ${error.statusCode ?? '?'}: ${reason}`, { cause: error });
  }
  return error;
}

async function nothingMatched(poi: Poi, req: GraphRequest, open: OpenSource, info: { events: number; from?: string; to?: string }): Promise<ProvmonError> {
  const span = info.from && info.to ? ` (${info.events} events, ${info.from} to ${info.to})` : ` (${info.events} events)`;
  const window = req.from || req.to ? ` between ${req.from ?? 'the beginning'} and ${req.to ?? 'the end'}` : '';
  const what = poiToString(poi);
  const hints: string[] = [];
  const jsonl = req.source.kind === 'local' ? join(req.source.dir, 'forensic-events*.jsonl') : undefined;
  switch (poi.kind) {
    case 'process': {
      if (/^\d+$/.test(poi.entityId)) {
        const found = await guard(req.source, () => open.processesWithPid(Number(poi.entityId))).catch(() => []);
        hints.push(
          found.length
            ? `${poi.entityId} looks like a pid; entity ids of processes with that pid:\n${found
                .slice(0, 10)
                .map((p) => `    process:${p.entity_id}  ${p.executable ?? '?'}${p.args ? ` ${JSON.stringify(p.args.join(' ')).slice(1, -1)}` : ''}${p.start ? `  started ${p.start}` : ''}`)
                .join('\n')}`
            : `${poi.entityId} looks like a pid, and no process with that pid is in ${open.where}`,
        );
      }
      hints.push(
        'process:<id> takes process.entity_id (a hash of host, pid and start time: pids are reused, entity ids are not)' +
          (jsonl ? `; list them with e.g. jq -r 'select(.event.action=="exec") | [.process.entity_id, .process.pid, .process.executable] | @tsv' ${jsonl}` : '; search process.entity_id in Discover'),
        'or start from what you know: --poi file:<path>, --poi ip:<ip>[:<port>]',
      );
      break;
    }
    case 'file':
      hints.push(
        'paths are absolute and as the kernel resolved them (symlinks followed: /bin/sh may be /usr/bin/dash); a file no process opened, wrote, renamed, deleted or executed while the sensor ran is not in the store',
      );
      if (jsonl) hints.push(`look for it: grep -h -o '"path":"[^"]*${lastSegment(poi.path)}"' ${jsonl} | sort -u`);
      break;
    case 'endpoint':
      hints.push('endpoints come from connect (the peer), accept (the peer and the local end), bind and listen events; a name must be resolved first; the sensor may filter allowlisted addresses');
      if (poi.port !== undefined) hints.push(`try the address without the port: --poi ip:${poi.ip}`);
      break;
    case 'event':
      hints.push('event:<id> takes event.id (the document _id in Elasticsearch)');
      break;
  }
  if (window) hints.push('or widen --from/--to');
  return new ProvmonError(`nothing matched ${what} in ${open.where}${span}${window}`, { hint: hints.join('\n  hint: ') });
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/[^A-Za-z0-9_.-]/g, '.');
}

const LINEAGE = ['fork', 'exec', 'already_running'];

function toCandidate(ev: EcsEvent): ProcessCandidate {
  const p = ev.process!;
  return { entity_id: p.entity_id, pid: p.pid, ...(p.executable ? { executable: p.executable } : {}), ...(p.args ? { args: p.args } : {}), ...(p.start ? { start: p.start } : {}) };
}

/** Latest image per entity id, newest first. */
function candidates(events: EcsEvent[], pid: number): ProcessCandidate[] {
  const byEntity = new Map<string, ProcessCandidate>();
  for (const ev of events) if (ev.process?.pid === pid && ev.process.entity_id) byEntity.set(ev.process.entity_id, toCandidate(ev));
  return [...byEntity.values()].sort((a, b) => (b.start ?? '').localeCompare(a.start ?? ''));
}

function localProcessesWithPid(local: LocalStoreSource, pid: number): ProcessCandidate[] {
  return candidates(local.lineageEvents(200_000), pid);
}

async function esProcessesWithPid(client: Client, index: string, pid: number): Promise<ProcessCandidate[]> {
  const r = await client.search<EcsEvent>({
    index,
    size: 50,
    ignore_unavailable: true,
    query: { bool: { filter: [{ term: { 'process.pid': pid } }, { terms: { 'event.action': LINEAGE } }] } },
    sort: [{ '@timestamp': 'asc' }],
  });
  return candidates(
    r.hits.hits.flatMap((h) => (h._source ? [h._source] : [])),
    pid,
  );
}
