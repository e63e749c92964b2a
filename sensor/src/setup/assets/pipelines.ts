/**
 * Ingest pipelines, one per dataset, installed as `logs-provmon.<dataset>` and used as each data stream's
 * `index.default_pipeline` (full profile). Every one:
 * - sets `event.ingested` with `copy_from: _ingest.timestamp` (no mustache: the value is the ingest time itself);
 * - guards ECS categorisation: kind/module/dataset filled when absent, the dataset's category present in
 *   event.category, event.type never empty, and a tag `provmon_ecs_categorization_mismatch` when event.type holds
 *   a value ECS does not allow for the categories (the event is kept as written, never altered or dropped);
 * - ends with the user-owned `logs-provmon.<dataset>@custom` pipeline when one exists;
 * - on failure keeps the event, marks it `event.kind: pipeline_error`, tags it and records the message.
 * Dataset steps: community_id (network, flow), network_direction and DNS enrichment (flow), registered_domain (dns).
 * Every optional enrichment only fills what the sensor left empty.
 */
import type { estypes } from '@elastic/elasticsearch';
import { DATASETS, type Dataset } from '../../../../kibana-plugin/common/ecs.ts';
import { ENRICH_TARGET } from './enrich.ts';
import { assetMeta } from './meta.ts';
import { customPipelineName, pipelineName } from './templates.ts';
import type { PipelineBody } from './types.ts';

type Processor = estypes.IngestProcessorContainer;

/** ECS 9.4 allowed event.type values per event.category, for the categories provmon writes. */
export const ECS_ALLOWED_TYPES = {
  process: ['access', 'change', 'end', 'info', 'start'],
  file: ['access', 'change', 'creation', 'deletion', 'info'],
  network: ['access', 'allowed', 'connection', 'denied', 'end', 'info', 'protocol', 'start'],
  host: ['access', 'change', 'end', 'info', 'start'],
  authentication: ['start', 'end', 'info'],
  session: ['start', 'end', 'info'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
  configuration: ['access', 'change', 'creation', 'deletion', 'info'],
  intrusion_detection: ['allowed', 'denied', 'info'],
} as const;

/** The category every event of a dataset has; null for audit, whose records fall into several (docs/audit.md). */
const CATEGORY: Record<Dataset, keyof typeof ECS_ALLOWED_TYPES | null> = {
  process: 'process',
  file: 'file',
  network: 'network',
  flow: 'network',
  dns: 'network',
  health: 'host',
  audit: null,
};

export const TAG_MISMATCH = 'provmon_ecs_categorization_mismatch';
export const TAG_PIPELINE_ERROR = 'provmon_pipeline_error';

const tagOnFailure = (tag: string): Processor[] => [{ append: { field: 'tags', value: [tag], allow_duplicates: false } }];

/** Painless: tag the event when an event.type value is not allowed for any of its categories. */
const CATEGORIZATION_CHECK = [
  'def ev = ctx.event; if (ev == null || ev.category == null || ev.type == null) { return; }',
  'def cats = ev.category instanceof List ? ev.category : [ev.category];',
  'def types = ev.type instanceof List ? ev.type : [ev.type];',
  'boolean ok = true;',
  'for (def t : types) { boolean any = false; for (def c : cats) { def a = params.allowed.get(c); if (a != null && a.contains(t)) { any = true; } } if (!any) { ok = false; } }',
  'if (ok) { return; }',
  'if (ctx.tags == null) { ctx.tags = new ArrayList(); } else if (!(ctx.tags instanceof List)) { ctx.tags = [ctx.tags]; }',
  'if (!ctx.tags.contains(params.tag)) { ctx.tags.add(params.tag); }',
].join(' ');

function head(dataset: Dataset): Processor[] {
  const category = CATEGORY[dataset];
  return [
    { set: { tag: 'event_ingested', field: 'event.ingested', copy_from: '_ingest.timestamp', description: 'time the event reached Elasticsearch' } },
    { set: { tag: 'event_kind', field: 'event.kind', value: 'event', override: false } },
    { set: { tag: 'event_module', field: 'event.module', value: 'provmon', override: false } },
    { set: { tag: 'event_dataset', field: 'event.dataset', copy_from: 'data_stream.dataset', override: false, ignore_empty_value: true } },
    ...(category === null
      ? []
      : [
          {
            append: {
              tag: 'event_category',
              field: 'event.category',
              value: [category],
              allow_duplicates: false,
              description: `every ${dataset} event is categorised ${category}`,
            },
          },
        ]),
    { set: { tag: 'event_type', field: 'event.type', value: ['info'], override: false } },
    {
      script: {
        tag: 'ecs_categorization_check',
        lang: 'painless',
        source: CATEGORIZATION_CHECK,
        params: { allowed: ECS_ALLOWED_TYPES, tag: TAG_MISMATCH },
        description: 'tag events whose event.type is not allowed by ECS for their event.category',
      },
    },
  ];
}

function communityId(): Processor {
  return {
    community_id: {
      tag: 'community_id',
      // only IP flows (not unix sockets, not socket() calls without addresses)
      if: 'ctx.network?.community_id == null && ctx.source?.ip != null && ctx.destination?.ip != null',
      ignore_missing: true,
      description: 'network.community_id (Community ID v1) when the sensor did not compute it',
      on_failure: tagOnFailure('provmon_community_id_failed'),
    },
  };
}

function flowSteps(internalNetworks: string[], enrichPolicyName: string): Processor[] {
  return [
    communityId(),
    {
      network_direction: {
        tag: 'network_direction',
        if: 'ctx.network?.direction == null',
        internal_networks: internalNetworks,
        ignore_missing: true,
        description: 'network.direction (inbound/outbound/internal/external) from es_config.internal_networks',
        on_failure: tagOnFailure('provmon_network_direction_failed'),
      },
    },
    {
      enrich: {
        tag: 'dns_enrichment',
        if: 'ctx.destination?.domain == null && ctx.destination?.ip != null',
        policy_name: enrichPolicyName,
        field: 'destination.ip',
        target_field: ENRICH_TARGET,
        max_matches: 1,
        ignore_missing: true,
        description: 'look destination.ip up in DNS answers seen by any provmon sensor',
        on_failure: tagOnFailure('provmon_dns_enrichment_failed'),
      },
    },
    {
      set: {
        tag: 'destination_domain',
        field: 'destination.domain',
        copy_from: `${ENRICH_TARGET}.dns.question.name`,
        override: false,
        ignore_empty_value: true,
      },
    },
    { remove: { tag: 'dns_enrichment_cleanup', field: ENRICH_TARGET, ignore_missing: true } },
  ];
}

function dnsSteps(): Processor[] {
  return [
    { set: { tag: 'network_protocol', field: 'network.protocol', value: 'dns', override: false } },
    {
      registered_domain: {
        tag: 'registered_domain',
        if: 'ctx.dns?.question?.name != null && ctx.dns?.question?.registered_domain == null',
        field: 'dns.question.name',
        target_field: 'dns.question',
        ignore_missing: true,
        description: 'dns.question.registered_domain, top_level_domain and subdomain (public suffix list)',
        on_failure: tagOnFailure('provmon_registered_domain_failed'),
      },
    },
    // the processor also writes <target>.domain, which is not an ECS dns.question field
    { remove: { tag: 'registered_domain_cleanup', field: 'dns.question.domain', ignore_missing: true } },
  ];
}

export interface PipelineOptions {
  internalNetworks: string[];
  enrichPolicyName: string;
}

export function pipeline(dataset: Dataset, options: PipelineOptions): PipelineBody {
  const steps: Processor[] =
    dataset === 'flow'
      ? flowSteps(options.internalNetworks, options.enrichPolicyName)
      : dataset === 'network'
        ? [communityId()]
        : dataset === 'dns'
          ? dnsSteps()
          : [];
  const body = {
    description: `provmon ${dataset} events: event.ingested, ECS categorisation guards${dataset === 'flow' ? ', community id, network direction, DNS enrichment' : dataset === 'network' ? ', community id' : dataset === 'dns' ? ', registered domain' : ''}`,
    processors: [
      ...head(dataset),
      ...steps,
      {
        pipeline: {
          tag: 'custom',
          name: customPipelineName(dataset),
          ignore_missing_pipeline: true,
          description: `user-owned extension point: PUT _ingest/pipeline/${customPipelineName(dataset)}`,
        },
      },
    ],
    on_failure: [
      { set: { field: 'event.kind', value: 'pipeline_error' } },
      { set: { field: 'error.message', copy_from: '_ingest.on_failure_message', override: false, ignore_empty_value: true } },
      { append: { field: 'tags', value: [TAG_PIPELINE_ERROR], allow_duplicates: false } },
    ],
    version: 1,
  } satisfies PipelineBody;
  return { ...body, _meta: assetMeta(body, 'full') };
}

export function pipelines(options: PipelineOptions): [string, PipelineBody][] {
  return DATASETS.map((d) => [pipelineName(d), pipeline(d, options)]);
}

/** Every processor type a pipeline uses (on_failure handlers included), so setup can check the cluster has them. */
export function processorTypes(body: PipelineBody): Set<string> {
  const out = new Set<string>();
  const walk = (list: Processor[] | undefined): void => {
    for (const p of list ?? []) {
      for (const [type, cfg] of Object.entries(p)) {
        out.add(type);
        walk((cfg as estypes.IngestProcessorBase | undefined)?.on_failure);
      }
    }
  };
  walk(body.processors);
  walk(body.on_failure);
  return out;
}

/** True when any processor of the pipeline has an `if` condition or is a script: both need lang-painless. */
export function usesPainless(body: PipelineBody): boolean {
  let found = false;
  const walk = (list: Processor[] | undefined): void => {
    for (const p of list ?? []) {
      for (const [type, cfg] of Object.entries(p)) {
        const base = cfg as estypes.IngestProcessorBase | undefined;
        if (type === 'script' || base?.if !== undefined) found = true;
        walk(base?.on_failure);
      }
    }
  };
  walk(body.processors);
  walk(body.on_failure);
  return found;
}
