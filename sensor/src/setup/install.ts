/**
 * Installs provmon's assets idempotently. Each asset's `_meta` (version, hash of the body, profile) is compared
 * with what is installed: equal → unchanged; absent → installed; different → upgraded. Enrich policies cannot be
 * updated, so their name carries the body hash and a new one supersedes the old (which is deleted once the flow
 * pipeline points at the new one). A changed transform is stopped, replaced and started again.
 *
 * When an index template changed and data streams already use it, they are rolled over so the new mappings and
 * settings apply to the next backing index (existing backing indices keep theirs).
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { ENRICH_POLICY_PREFIX } from './assets/enrich.ts';
import { KIND_LABEL, metaOf, type Asset, type AssetKind, type Profile } from './assets/index.ts';

export type Action = 'installed' | 'upgraded' | 'unchanged' | 'skipped' | 'created' | 'executed' | 'started' | 'deleted' | 'rolled over' | 'warning';

export interface ReportLine {
  action: Action;
  what: string;
  detail?: string;
}

export interface InstallOptions {
  profile: Profile;
  /** Namespace whose dns data stream is created up front (the enrich policy needs a source index). */
  namespace: string;
  /** Assets of the full profile that the core profile leaves out, reported as skipped. */
  skipped?: Asset[];
  onLine?: (line: ReportLine) => void;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}

async function orAbsent<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** The `_meta` of the installed asset, `null` when it exists without one, undefined when it does not exist. */
async function installedMeta(client: Client, asset: Asset): Promise<Record<string, unknown> | null | undefined> {
  switch (asset.kind) {
    case 'component_template': {
      const r = await orAbsent(() => client.cluster.getComponentTemplate({ name: asset.name }));
      const t = r?.component_templates.find((c) => c.name === asset.name);
      return t ? (t.component_template._meta ?? null) : undefined;
    }
    case 'index_template': {
      const r = await orAbsent(() => client.indices.getIndexTemplate({ name: asset.name }));
      const t = r?.index_templates.find((c) => c.name === asset.name);
      return t ? (t.index_template._meta ?? null) : undefined;
    }
    case 'ilm_policy': {
      const r = await orAbsent(() => client.ilm.getLifecycle({ name: asset.name }));
      const p = r?.[asset.name];
      return p ? (p.policy._meta ?? null) : undefined;
    }
    case 'ingest_pipeline': {
      const r = await orAbsent(() => client.ingest.getPipeline({ id: asset.name }));
      const p = r?.[asset.name];
      return p ? (p._meta ?? null) : undefined;
    }
    case 'enrich_policy': {
      const r = await orAbsent(() => client.enrich.getPolicy({ name: asset.name }));
      // immutable and named by its hash: if it exists, it is this body
      return r && r.policies.length > 0 ? { ...metaFor(asset) } : undefined;
    }
    case 'transform': {
      const r = await orAbsent(() => client.transform.getTransform({ transform_id: asset.name }));
      const t = r?.transforms.find((x) => x.id === asset.name);
      return t ? ((t._meta as Record<string, unknown> | undefined) ?? null) : undefined;
    }
  }
}

function metaFor(asset: Asset): Record<string, unknown> {
  return metaOf(asset) ?? { hash: asset.name };
}

async function put(client: Client, asset: Asset): Promise<void> {
  switch (asset.kind) {
    case 'component_template':
      await client.cluster.putComponentTemplate({ name: asset.name, ...asset.body });
      return;
    case 'index_template':
      await client.indices.putIndexTemplate({ name: asset.name, ...asset.body });
      return;
    case 'ilm_policy':
      await client.ilm.putLifecycle({ name: asset.name, ...asset.body });
      return;
    case 'ingest_pipeline':
      await client.ingest.putPipeline({ id: asset.name, ...asset.body });
      return;
    case 'enrich_policy':
      await client.enrich.putPolicy({ name: asset.name, ...asset.body });
      return;
    case 'transform':
      await client.transform.putTransform({ transform_id: asset.name, defer_validation: true, ...asset.body });
      return;
  }
}

const label = (asset: Pick<Asset, 'kind' | 'name'>): string => `${KIND_LABEL[asset.kind]} ${asset.name}`;

function describeChange(have: Record<string, unknown> | null, want: Record<string, unknown>): string {
  if (have === null) return 'was not managed by provmon';
  if (have.version !== want.version) return `version ${String(have.version ?? '?')} → ${String(want.version)}`;
  if (have.profile !== want.profile) return `profile ${String(have.profile ?? '?')} → ${String(want.profile)}`;
  return 'configuration changed';
}

/** Data streams (existing) that match an index template's patterns; GET _resolve/index is in server core. */
async function dataStreamsMatching(client: Client, patterns: string[]): Promise<string[]> {
  const r = await client.indices.resolveIndex({ name: patterns, expand_wildcards: 'all' });
  return r.data_streams.map((d) => d.name).sort();
}

export async function installAssets(client: Client, assets: Asset[], options: InstallOptions): Promise<ReportLine[]> {
  const report: ReportLine[] = [];
  const emit = (line: ReportLine): void => {
    report.push(line);
    options.onLine?.(line);
  };
  const changedTemplates: Asset[] = [];

  for (const asset of assets) {
    const want = metaFor(asset);
    const have = await installedMeta(client, asset);
    const same = have !== undefined && have !== null && have.version === want.version && have.hash === want.hash && have.profile === want.profile;

    if (asset.kind === 'enrich_policy') await ensureDnsDataStream(client, options.namespace, emit);

    if (same) {
      emit({ action: 'unchanged', what: label(asset), detail: `v${String(want.version)}` });
    } else {
      if (asset.kind === 'transform' && have !== undefined) await removeTransform(client, asset.name);
      await put(client, asset);
      emit(have === undefined ? { action: 'installed', what: label(asset), detail: `v${String(want.version)}` } : { action: 'upgraded', what: label(asset), detail: describeChange(have, want) });
      if (asset.kind === 'index_template' && have !== undefined) changedTemplates.push(asset);
      if (asset.kind === 'component_template' && have !== undefined) {
        for (const t of assets) if (t.kind === 'index_template' && t.body.composed_of?.includes(asset.name) && !changedTemplates.includes(t)) changedTemplates.push(t);
      }
    }

    if (asset.kind === 'enrich_policy') {
      const r = await client.enrich.executePolicy({ name: asset.name, wait_for_completion: true });
      emit({ action: 'executed', what: label(asset), detail: String(r.status?.phase ?? 'COMPLETE').toLowerCase() });
    }
    if (asset.kind === 'transform') {
      try {
        await client.transform.startTransform({ transform_id: asset.name });
        emit({ action: 'started', what: label(asset) });
      } catch (error) {
        if (statusOf(error) !== 409) throw error; // 409: already started
      }
    }
    if (asset.kind === 'ingest_pipeline' && asset.name.endsWith('.flow')) await deleteSupersededEnrichPolicies(client, assets, emit);
  }

  for (const t of changedTemplates) {
    if (t.kind !== 'index_template' || !t.body.data_stream) continue;
    const patterns = ([] as string[]).concat(t.body.index_patterns ?? []);
    for (const ds of await dataStreamsMatching(client, patterns)) {
      await client.indices.rollover({ alias: ds });
      emit({ action: 'rolled over', what: `data stream ${ds}`, detail: `so the new ${t.name} mappings and settings apply` });
    }
  }

  for (const asset of options.skipped ?? []) {
    emit({ action: 'skipped', what: label(asset), detail: `--core-only; needs ${needsOf(asset.kind)}` });
  }
  return report;
}

function needsOf(kind: AssetKind): string {
  switch (kind) {
    case 'ilm_policy':
      return 'ILM';
    case 'ingest_pipeline':
      return 'ingest-common processors and painless';
    case 'enrich_policy':
      return 'enrich';
    case 'transform':
      return 'transforms';
    default:
      return 'the full profile';
  }
}

async function ensureDnsDataStream(client: Client, namespace: string, emit: (l: ReportLine) => void): Promise<void> {
  const name = `logs-provmon.dns-${namespace}`;
  try {
    await client.indices.createDataStream({ name });
    emit({ action: 'created', what: `data stream ${name}`, detail: 'source of the DNS enrich policy' });
  } catch (error) {
    if (statusOf(error) === 400 && /resource_already_exists/.test(JSON.stringify((error as errors.ResponseError).body ?? ''))) return;
    throw error;
  }
}

async function removeTransform(client: Client, id: string): Promise<void> {
  await orAbsent(() => client.transform.stopTransform({ transform_id: id, force: true, wait_for_completion: true }));
  await orAbsent(() => client.transform.deleteTransform({ transform_id: id, force: true }));
}

async function deleteSupersededEnrichPolicies(client: Client, assets: Asset[], emit: (l: ReportLine) => void): Promise<void> {
  const current = new Set(assets.filter((a) => a.kind === 'enrich_policy').map((a) => a.name));
  const all = await client.enrich.getPolicy();
  for (const p of all.policies) {
    const name = p.config.match?.name ?? p.config.range?.name ?? p.config.geo_match?.name;
    if (!name || !name.startsWith(ENRICH_POLICY_PREFIX) || current.has(name)) continue;
    try {
      await client.enrich.deletePolicy({ name });
      emit({ action: 'deleted', what: `enrich policy ${name}`, detail: 'superseded' });
    } catch (error) {
      emit({ action: 'warning', what: `enrich policy ${name}`, detail: `superseded but not deleted: ${(error as Error).message}` });
    }
  }
}
