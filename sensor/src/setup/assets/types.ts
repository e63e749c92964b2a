/**
 * The request-body types every provmon asset is written against: the official client's API types, narrowed where
 * provmon is stricter. Assets are object literals checked with `satisfies`, so an unknown processor, an unknown
 * option, a misspelt key or a field type outside the core set is a compile error (the typecheck test enforces it).
 *
 * Mappings use only field types that Elasticsearch core provides (no mapper-extras, no x-pack mappers), so the
 * templates install on any 8.x/9.x node, including the minimal integ-test-zip node the tests run against.
 * `wildcard`, `constant_keyword`, `match_only_text`, `flattened`… are not members of CoreProperty.
 */
import type { estypes } from '@elastic/elasticsearch';

type Strip<T> = Omit<T, 'fields' | 'properties' | 'type'>;

/** Field types allowed as multi-fields (`fields`) of a keyword or text field. */
export type CoreLeafProperty =
  | (Strip<estypes.MappingKeywordProperty> & { type: 'keyword' })
  | (Strip<estypes.MappingTextProperty> & { type: 'text' });

/** The core field types provmon maps: keyword, long, integer, float, ip, date, boolean, object, text (as multi-field). */
export type CoreProperty =
  | (Strip<estypes.MappingKeywordProperty> & { type: 'keyword'; fields?: Record<string, CoreLeafProperty> })
  | (Strip<estypes.MappingTextProperty> & { type: 'text'; fields?: Record<string, CoreLeafProperty> })
  | (Strip<estypes.MappingLongNumberProperty> & { type: 'long' })
  | (Strip<estypes.MappingIntegerNumberProperty> & { type: 'integer' })
  | (Strip<estypes.MappingFloatNumberProperty> & { type: 'float' })
  | (Strip<estypes.MappingIpProperty> & { type: 'ip' })
  | (Strip<estypes.MappingDateProperty> & { type: 'date' })
  | (Strip<estypes.MappingBooleanProperty> & { type: 'boolean' })
  | (Strip<estypes.MappingObjectProperty> & { type?: 'object'; properties: CoreProperties });

export type CoreProperties = Record<string, CoreProperty>;

export type CoreMappings = Omit<estypes.MappingTypeMapping, 'properties' | 'dynamic_templates' | 'runtime'> & {
  properties: CoreProperties;
};

/** What every provmon asset carries in `_meta`: who manages it, which asset version, and a hash of the body. */
export interface AssetMeta {
  [key: string]: unknown;
  managed_by: 'provmon';
  managed: true;
  /** Bumped whenever an asset changes meaning (see ASSETS_VERSION). */
  version: number;
  /** sha256 (first 16 hex) of the body without _meta: changes when configuration (retention, networks) changes it. */
  hash: string;
  /** "full" (pipelines, lifecycle) or "core" (templates that Elasticsearch core alone supports). */
  profile: Profile;
}

export type Profile = 'full' | 'core';

/** PUT _component_template/<name> */
export type ComponentTemplateBody = Omit<estypes.ClusterPutComponentTemplateRequest, 'name' | 'create' | 'cause' | 'master_timeout' | 'template'> & {
  template: Omit<estypes.IndicesIndexState, 'mappings' | 'defaults' | 'data_stream' | 'lifecycle'> & { mappings?: CoreMappings };
};

/** PUT _index_template/<name> */
export type IndexTemplateBody = Omit<estypes.IndicesPutIndexTemplateRequest, 'name' | 'create' | 'cause' | 'master_timeout' | 'template'> & {
  template?: Omit<estypes.IndicesPutIndexTemplateIndexTemplateMapping, 'mappings' | 'lifecycle'> & { mappings?: CoreMappings };
};

/** PUT _ilm/policy/<name> */
export type IlmPolicyBody = { policy: estypes.IlmPolicy };

/** PUT _ingest/pipeline/<id> */
export type PipelineBody = Omit<estypes.IngestPutPipelineRequest, 'id' | 'master_timeout' | 'timeout' | 'if_version'>;

/** PUT _enrich/policy/<name> (policies cannot be updated: a new version gets a new name). */
export type EnrichPolicyBody = Omit<estypes.EnrichPutPolicyRequest, 'name' | 'master_timeout'>;

/** PUT _transform/<id> */
export type TransformBody = Omit<estypes.TransformPutTransformRequest, 'transform_id' | 'defer_validation' | 'timeout'>;
