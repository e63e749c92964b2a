/**
 * Component and composable index templates for the data streams `logs-provmon.<dataset>-<namespace>`.
 *
 * Each dataset's index template is composed of the mapping groups its documents carry, a per-dataset settings
 * component (lifecycle and default pipeline in the full profile) and an optional, user-owned
 * `logs-provmon.<dataset>@custom` component that provmon never installs (ignore_missing_component_templates),
 * the same extension point Fleet integrations offer.
 *
 * Patterns are `logs-provmon.<dataset>-*`: they overlap the built-in `logs-*-*` template (priority 100), so the
 * priority is 250, above Fleet's integration templates (200), and no other product's dataset starts with
 * `provmon.`, so no equal-priority overlap can be rejected.
 */
import { DATASETS, type Dataset } from '../../../../kibana-plugin/common/ecs.ts';
import { DATASET_GROUPS, FIELD_GROUPS, type FieldGroup } from './mappings.ts';
import { assetMeta } from './meta.ts';
import type { ComponentTemplateBody, IndexTemplateBody, Profile } from './types.ts';

export const TEMPLATE_PRIORITY = 250;

export const mappingsComponentName = (group: FieldGroup): string => `provmon-ecs-${group}@mappings`;
export const settingsComponentName = (dataset: Dataset): string => `logs-provmon.${dataset}@settings`;
export const customComponentName = (dataset: Dataset): string => `logs-provmon.${dataset}@custom`;
/** The user-owned pipeline each provmon pipeline calls last, when it exists (same naming as Fleet's). */
export const customPipelineName = (dataset: Dataset): string => `logs-provmon.${dataset}@custom`;
export const indexTemplateName = (dataset: Dataset): string => `logs-provmon.${dataset}`;
export const pipelineName = (dataset: Dataset): string => `logs-provmon.${dataset}`;
export const lifecycleName = (dataset: Dataset): string => `logs-provmon.${dataset}@lifecycle`;

const GROUP_DESCRIPTIONS: Record<FieldGroup, string> = {
  base: 'ECS fields on every provmon event: @timestamp, event.*, host.*, data_stream.*, error.*, tags, provmon.syscall/fd/cgroup_id',
  process: 'ECS process.*, user.*, group.* of syscall events',
  file: 'ECS file.* and provmon.io/open/file of file events',
  endpoints: 'ECS source.*, destination.*, network.* of socket events, flows and DNS',
  flow: 'provmon.flow.* of pcap flow reports',
  dns: 'ECS dns.* of DNS answers seen on the wire',
  health: 'ECS agent.* and provmon.health.* of the sensor health documents',
  audit: 'provmon.audit.* of documents made from Linux audit logs (provmon analyze): record type, serial, auid, session, PAM and sudo fields',
};

export function mappingsComponent(group: FieldGroup, profile: Profile): ComponentTemplateBody {
  const body = {
    template: {
      mappings: {
        dynamic: false,
        date_detection: false,
        properties: FIELD_GROUPS[group],
      },
    },
    version: 1,
  } satisfies ComponentTemplateBody;
  return { ...body, _meta: { ...assetMeta(body, profile), description: GROUP_DESCRIPTIONS[group] } };
}

export function settingsComponent(dataset: Dataset, profile: Profile): ComponentTemplateBody {
  const body = {
    template: {
      settings: {
        index: {
          // one replica when the cluster has a second node, none on a single node (so it stays green)
          auto_expand_replicas: '0-1',
          codec: 'best_compression',
          // a malformed value (an IP that is not one) is left unindexed rather than rejecting the whole event
          mapping: { ignore_malformed: true },
          ...(profile === 'full' ? { default_pipeline: pipelineName(dataset), lifecycle: { name: lifecycleName(dataset) } } : {}),
        },
      },
    },
    version: 1,
  } satisfies ComponentTemplateBody;
  return {
    ...body,
    _meta: {
      ...assetMeta(body, profile),
      description:
        profile === 'full'
          ? `index settings of logs-provmon.${dataset}-*: ingest pipeline ${pipelineName(dataset)}, ILM policy ${lifecycleName(dataset)}`
          : `index settings of logs-provmon.${dataset}-* (core profile: no ingest pipeline, no lifecycle)`,
    },
  };
}

export function indexTemplate(dataset: Dataset, profile: Profile): IndexTemplateBody {
  const body = {
    index_patterns: [`logs-provmon.${dataset}-*`],
    data_stream: {},
    priority: TEMPLATE_PRIORITY,
    composed_of: [...DATASET_GROUPS[dataset].map(mappingsComponentName), settingsComponentName(dataset), customComponentName(dataset)],
    ignore_missing_component_templates: [customComponentName(dataset)],
    allow_auto_create: true,
    version: 1,
  } satisfies IndexTemplateBody;
  return {
    ...body,
    _meta: { ...assetMeta(body, profile), description: `provmon ${dataset} events: data streams logs-provmon.${dataset}-<namespace>` },
  };
}

/** Every component template (all mapping groups, every dataset's settings) and every index template. */
export function templates(profile: Profile): { components: [string, ComponentTemplateBody][]; indexTemplates: [string, IndexTemplateBody][] } {
  const groups = Object.keys(FIELD_GROUPS) as FieldGroup[];
  return {
    components: [
      ...groups.map((g) => [mappingsComponentName(g), mappingsComponent(g, profile)] as [string, ComponentTemplateBody]),
      ...DATASETS.map((d) => [settingsComponentName(d), settingsComponent(d, profile)] as [string, ComponentTemplateBody]),
    ],
    indexTemplates: DATASETS.map((d) => [indexTemplateName(d), indexTemplate(d, profile)]),
  };
}
