/**
 * The catalogue of provmon's Elasticsearch assets, in install order. Bodies are built from the configuration
 * (retention, internal networks) and the profile; the JSON files in index-templates/ and ingest-pipelines/ are
 * these bodies for the default configuration and the full profile (sensor/src/setup/gen-assets.ts writes them,
 * a test checks they are current).
 */
import { DATASETS, type Dataset } from '../../../../kibana-plugin/common/ecs.ts';
import { EsConfigSchema } from '../../config/schema.ts';
import type { z } from 'zod';
import { enrichPolicy } from './enrich.ts';
import { lifecyclePolicies } from './lifecycle.ts';
import { pipelines } from './pipelines.ts';
import { templates } from './templates.ts';
import { ROLLUP_TEMPLATE, ROLLUP_TRANSFORM, rollupIndexTemplate, rollupTransform } from './transform.ts';
import type { ComponentTemplateBody, EnrichPolicyBody, IlmPolicyBody, IndexTemplateBody, PipelineBody, Profile, TransformBody } from './types.ts';

export type { Profile } from './types.ts';

export interface AssetBodies {
  component_template: ComponentTemplateBody;
  index_template: IndexTemplateBody;
  ilm_policy: IlmPolicyBody;
  ingest_pipeline: PipelineBody;
  enrich_policy: EnrichPolicyBody;
  transform: TransformBody;
}
export type AssetKind = keyof AssetBodies;

export type Asset = { [K in AssetKind]: { kind: K; name: string; body: AssetBodies[K] } }[AssetKind];

export const KIND_LABEL: Record<AssetKind, string> = {
  component_template: 'component template',
  index_template: 'index template',
  ilm_policy: 'ILM policy',
  ingest_pipeline: 'ingest pipeline',
  enrich_policy: 'enrich policy',
  transform: 'transform',
};

/** The REST path an asset is PUT to. */
export function apiPath(asset: Pick<Asset, 'kind' | 'name'>): string {
  switch (asset.kind) {
    case 'component_template':
      return `_component_template/${asset.name}`;
    case 'index_template':
      return `_index_template/${asset.name}`;
    case 'ilm_policy':
      return `_ilm/policy/${asset.name}`;
    case 'ingest_pipeline':
      return `_ingest/pipeline/${asset.name}`;
    case 'enrich_policy':
      return `_enrich/policy/${asset.name}`;
    case 'transform':
      return `_transform/${asset.name}?defer_validation=true`;
  }
}

/** Where the asset's JSON lives in the repository (relative to the repository root). */
export function assetFile(asset: Pick<Asset, 'kind' | 'name'>): string {
  switch (asset.kind) {
    case 'component_template':
      return `index-templates/component/${asset.name}.json`;
    case 'index_template':
      return `index-templates/index/${asset.name}.json`;
    case 'ilm_policy':
      return `index-templates/ilm/${asset.name}.json`;
    case 'transform':
      return `index-templates/transform/${asset.name}.json`;
    case 'ingest_pipeline':
      return `ingest-pipelines/${asset.name}.json`;
    case 'enrich_policy':
      return `ingest-pipelines/enrich/${asset.name}.json`;
  }
}

export interface AssetOptions {
  profile: Profile;
  internalNetworks: string[];
  retentionDays: Record<Dataset | 'flow_rollup', number>;
}

type EsConfig = z.output<typeof EsConfigSchema>;

export function assetOptions(es: Pick<EsConfig, 'internal_networks' | 'retention_days'>, profile: Profile): AssetOptions {
  return { profile, internalNetworks: [...es.internal_networks], retentionDays: { ...es.retention_days } };
}

/** The options the committed JSON files are generated with: the configuration defaults, full profile. */
export function defaultAssetOptions(profile: Profile = 'full'): AssetOptions {
  return assetOptions(EsConfigSchema.parse({}), profile);
}

/** The name of the current DNS enrich policy (the sensor's refresh timer executes it). */
export function currentEnrichPolicyName(): string {
  return enrichPolicy().name;
}

/**
 * Every asset of the profile, in install order: component templates, lifecycle policies, pipelines (flow last,
 * after the enrich policy it uses), index templates, enrich policy, transform. The core profile is templates only.
 */
export function buildAssets(options: AssetOptions): Asset[] {
  const { components, indexTemplates } = templates(options.profile);
  const out: Asset[] = components.map(([name, body]) => ({ kind: 'component_template', name, body }));
  if (options.profile === 'core') {
    out.push(...indexTemplates.map(([name, body]): Asset => ({ kind: 'index_template', name, body })));
    return out;
  }
  const enrich = enrichPolicy();
  const retention = Object.fromEntries(DATASETS.map((d) => [d, options.retentionDays[d]])) as Record<Dataset, number>;
  out.push(...lifecyclePolicies(retention).map(([name, body]): Asset => ({ kind: 'ilm_policy', name, body })));
  const allPipelines = pipelines({ internalNetworks: options.internalNetworks, enrichPolicyName: enrich.name });
  const flow = allPipelines.filter(([name]) => name.endsWith('.flow'));
  out.push(...allPipelines.filter(([name]) => !name.endsWith('.flow')).map(([name, body]): Asset => ({ kind: 'ingest_pipeline', name, body })));
  out.push(...indexTemplates.map(([name, body]): Asset => ({ kind: 'index_template', name, body })));
  out.push({ kind: 'index_template', name: ROLLUP_TEMPLATE, body: rollupIndexTemplate() });
  out.push({ kind: 'enrich_policy', name: enrich.name, body: enrich.body });
  out.push(...flow.map(([name, body]): Asset => ({ kind: 'ingest_pipeline', name, body })));
  out.push({ kind: 'transform', name: ROLLUP_TRANSFORM, body: rollupTransform(options.retentionDays.flow_rollup) });
  return out;
}

/** `_meta` of an asset body, wherever the asset kind keeps it. */
export function metaOf(asset: Asset): Record<string, unknown> | undefined {
  switch (asset.kind) {
    case 'ilm_policy':
      return asset.body.policy._meta;
    case 'enrich_policy':
      return undefined;
    default:
      return asset.body._meta;
  }
}
