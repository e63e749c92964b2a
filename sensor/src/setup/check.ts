/**
 * What `provmon setup` checks before installing anything: the Elasticsearch version, and for the full profile
 * every ingest processor the pipelines use, painless (for `if` conditions and the script processor), ILM,
 * enrich, transforms and the data stream APIs. Each gap is reported with the capability it costs.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { ProvmonError } from '../errors.ts';
import type { Asset } from './assets/index.ts';
import { processorTypes, usesPainless } from './assets/pipelines.ts';

/** What each processor provmon's pipelines use gives, and which Elasticsearch module provides it. */
export const PROCESSOR_CAPABILITIES: Record<string, { lost: string; module: string }> = {
  set: { lost: 'event.ingested, the ECS categorisation defaults, the pipeline failure handler (every pipeline)', module: 'ingest-common' },
  append: { lost: 'event.category guard and failure tags (every pipeline)', module: 'ingest-common' },
  script: { lost: 'the ECS event.type/event.category check (every pipeline)', module: 'ingest-common + lang-painless' },
  remove: { lost: 'clean-up of temporary enrichment fields (flow, dns)', module: 'ingest-common' },
  community_id: { lost: 'network.community_id for flows and socket events that lack it (flow, network)', module: 'ingest-common' },
  network_direction: { lost: 'network.direction of flows from es_config.internal_networks (flow)', module: 'ingest-common' },
  enrich: { lost: 'DNS enrichment of flows across hosts: destination.domain from any sensor\'s DNS answers (flow)', module: 'x-pack enrich' },
  registered_domain: { lost: 'dns.question.registered_domain/top_level_domain/subdomain (dns)', module: 'ingest-common' },
  pipeline: { lost: 'the logs-provmon.<dataset>@custom pipeline hook (every pipeline)', module: 'ingest-common' },
};

export interface ClusterInfo {
  clusterName: string;
  versions: string[];
  nodes: { name: string; version: string; roles: string[] }[];
}

export interface Gap {
  what: string;
  lost: string;
}

export const MIN_VERSION = { major: 8, minor: 7 };

function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}

/** A user-facing error for a request that failed before anything was learnt about the cluster. */
export function connectionProblem(error: unknown, target: string): ProvmonError {
  const status = statusOf(error);
  if (status === 401) {
    return new ProvmonError(`Elasticsearch at ${target} rejected the credentials (HTTP 401)`, {
      hint: 'check es_config.api_key, or es_config.es_user and es_config.es_password (PROVMON_ES_CONFIG__ES_PASSWORD)',
    });
  }
  if (status === 403) {
    return new ProvmonError(`the Elasticsearch user at ${target} may not read cluster information (HTTP 403)`, {
      hint: 'provmon setup needs the manage_index_templates, manage_ingest_pipelines, manage_ilm, manage_enrich, manage_transform and monitor cluster privileges',
    });
  }
  if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError || error instanceof errors.NoLivingConnectionsError) {
    return new ProvmonError(`cannot reach Elasticsearch at ${target}: ${error.message}`, {
      hint: 'check es_config.hosts (or es_host/es_port/secure) and that the cluster is up; --es URL overrides them',
    });
  }
  return new ProvmonError(`Elasticsearch at ${target} answered unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
}

export async function clusterInfo(client: Client): Promise<ClusterInfo> {
  // GET /_nodes rather than GET /: the root endpoint is a module (rest-root) that minimal distributions lack.
  const res = await client.nodes.info({ node_id: '_all', metric: '_none', filter_path: ['cluster_name', 'nodes.*.name', 'nodes.*.version', 'nodes.*.roles'] });
  const nodes = Object.values(res.nodes ?? {}).map((n) => ({ name: n.name, version: n.version, roles: [...(n.roles ?? [])] }));
  return { clusterName: res.cluster_name, versions: [...new Set(nodes.map((n) => n.version))].sort(), nodes };
}

/** Every node must run 8.7+ or 9.x (8.7 brought ignore_missing_component_templates, used for the @custom hook). */
export function versionGaps(info: ClusterInfo): Gap[] {
  const gaps: Gap[] = [];
  for (const node of info.nodes) {
    const [major, minor] = node.version.split('.').map(Number) as [number, number];
    const ok = (major === 8 && minor >= MIN_VERSION.minor) || major === 9;
    if (!ok) {
      gaps.push({
        what: `node ${node.name} runs Elasticsearch ${node.version}; provmon needs 8.${MIN_VERSION.minor} or later 8.x, or 9.x`,
        lost: major < 8 || (major === 8 && minor < MIN_VERSION.minor) ? 'everything (templates use ignore_missing_component_templates, 8.7+)' : 'everything (the 8.x client may not speak this version)',
      });
    }
  }
  return gaps;
}

async function probe(call: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; status: number | undefined; reason: string }> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 && error instanceof errors.ResponseError && /resource_not_found|no such|not found/i.test(JSON.stringify(error.body ?? ''))) {
      // the API exists; the thing asked for does not
      return { ok: true };
    }
    return { ok: false, status, reason: status === undefined ? (error as Error).message : status === 403 ? 'HTTP 403, this user lacks the privilege' : `HTTP ${status}` };
  }
}

/** Everything the full profile needs that the cluster lacks; empty when the cluster can take the full install. */
export async function fullProfileGaps(client: Client, assets: Asset[]): Promise<Gap[]> {
  const gaps: Gap[] = [];
  const pipelines = assets.flatMap((a) => (a.kind === 'ingest_pipeline' ? [a.body] : []));

  // Ingest processors, node by node: a pipeline runs on whichever ingest node receives the document.
  const needed = new Set<string>();
  for (const p of pipelines) for (const t of processorTypes(p)) needed.add(t);
  const ingest = await client.nodes.info({ metric: 'ingest', filter_path: ['nodes.*.name', 'nodes.*.roles', 'nodes.*.ingest.processors.type'] });
  const ingestNodes = Object.values(ingest.nodes ?? {}).filter((n) => (n.roles ?? []).includes('ingest'));
  if (ingestNodes.length === 0) {
    gaps.push({ what: 'no node has the ingest role', lost: 'every ingest pipeline: event.ingested, ECS guards, community id, network direction, DNS enrichment, registered domain' });
  }
  for (const type of [...needed].sort()) {
    const lacking = ingestNodes.filter((n) => !(n.ingest?.processors ?? []).some((p) => p.type === type)).map((n) => n.name);
    if (lacking.length === 0) continue;
    const cap = PROCESSOR_CAPABILITIES[type] ?? { lost: 'part of the ingest pipelines', module: 'unknown module' };
    const where = lacking.length === ingestNodes.length ? '' : ` on node${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')}`;
    gaps.push({ what: `ingest processor ${type} (${cap.module})${where}`, lost: cap.lost });
  }

  if (pipelines.some(usesPainless)) {
    const langs = (await client.transport.request({ method: 'GET', path: '/_script_language' })) as { language_contexts?: { language: string }[] };
    if (!(langs.language_contexts ?? []).some((l) => l.language === 'painless')) {
      gaps.push({ what: 'painless scripting (module lang-painless)', lost: 'processor conditions (`if`) and the ECS categorisation script: every pipeline fails to install without it' });
    }
  }
  const kinds = new Set(assets.map((a) => a.kind));
  if (kinds.has('ilm_policy')) {
    const r = await probe(() => client.ilm.getStatus());
    if (!r.ok) gaps.push({ what: `index lifecycle management (x-pack ilm; GET _ilm/status: ${r.reason})`, lost: 'retention: the hot/delete lifecycle (es_config.retention_days) of every data stream' });
  }
  if (kinds.has('enrich_policy')) {
    const r = await probe(() => client.enrich.getPolicy());
    if (!r.ok) gaps.push({ what: `enrich (x-pack enrich; GET _enrich/policy: ${r.reason})`, lost: 'DNS enrichment of flows across hosts (the enrich policy over logs-provmon.dns-*)' });
    const ds = await probe(() => client.indices.getDataStream({ name: 'logs-provmon.dns-*' }));
    if (!ds.ok) gaps.push({ what: `data stream APIs (module data-streams; GET _data_stream: ${ds.reason})`, lost: 'creating the dns data stream the enrich policy reads before any sensor has written to it' });
  }
  if (kinds.has('transform')) {
    const r = await probe(() => client.transform.getTransform({ size: 1 }));
    if (!r.ok) gaps.push({ what: `transforms (x-pack transform; GET _transform: ${r.reason})`, lost: '1-minute flow rollups (provmon-flow-rollup-1m)' });
  }
  return gaps;
}
