/**
 * Compile-time tests of the asset types: every line marked @ts-expect-error must fail to typecheck, so the
 * typecheck test (test/typecheck.test.ts) fails if any of these mistakes ever compiles. Never imported.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { CoreProperties, IndexTemplateBody, PipelineBody, TransformBody } from './types.ts';

export const mappingTypes = [
  // @ts-expect-error wildcard is an x-pack field type, not core
  { command_line: { type: 'wildcard' } } satisfies CoreProperties,
  // @ts-expect-error constant_keyword is an x-pack field type
  { data_stream: { properties: { type: { type: 'constant_keyword' } } } } satisfies CoreProperties,
  // @ts-expect-error match_only_text comes from the mapper-extras module, even as a multi-field
  { name: { type: 'keyword', fields: { text: { type: 'match_only_text' } } } } satisfies CoreProperties,
  // @ts-expect-error flattened is an x-pack field type
  { labels: { type: 'flattened' } } satisfies CoreProperties,
  // @ts-expect-error a misspelt mapping option
  { name: { type: 'keyword', ignore_abov: 1024 } } satisfies CoreProperties,
  { ok: { type: 'keyword', ignore_above: 1024, fields: { text: { type: 'text' } } }, n: { type: 'long' }, o: { dynamic: false, properties: { ip: { type: 'ip' } } } } satisfies CoreProperties,
];

export const processors = [
  // @ts-expect-error there is no processor called community
  [{ community: { target_field: 'network.community_id' } }] satisfies estypes.IngestProcessorContainer[],
  // @ts-expect-error set has copy_from, not copyFrom
  [{ set: { field: 'event.ingested', copyFrom: '_ingest.timestamp' } }] satisfies estypes.IngestProcessorContainer[],
  // @ts-expect-error network_direction takes internal_networks, not internal_network
  { processors: [{ network_direction: { internal_network: ['private'] } }] } satisfies PipelineBody,
];

export const templates = [
  // @ts-expect-error a mapping inside an index template is narrowed too
  { index_patterns: ['x-*'], template: { mappings: { properties: { v: { type: 'wildcard' } } } } } satisfies IndexTemplateBody,
  // @ts-expect-error sync takes { time: { field, delay } }
  { source: { index: ['x'] }, dest: { index: 'y' }, sync: { field: 'event.ingested' } } satisfies TransformBody,
];
