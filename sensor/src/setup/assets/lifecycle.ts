/**
 * ILM policies, one per dataset (full profile only: the minimal test node has no ILM).
 * Hot: roll the backing index over daily or at 50 GB per primary shard; delete: `retention_days.<dataset>` days
 * after rollover (ILM counts min_age of the delete phase from rollover).
 */
import { DATASETS, type Dataset } from '../../../../kibana-plugin/common/ecs.ts';
import { assetMeta } from './meta.ts';
import { lifecycleName } from './templates.ts';
import type { IlmPolicyBody } from './types.ts';

export function lifecyclePolicy(dataset: Dataset, retentionDays: number): IlmPolicyBody {
  const phases = {
    hot: {
      min_age: '0ms',
      actions: {
        rollover: { max_age: '1d', max_primary_shard_size: '50gb' },
        set_priority: { priority: 100 },
      },
    },
    delete: {
      min_age: `${retentionDays}d`,
      actions: { delete: { delete_searchable_snapshot: true } },
    },
  } satisfies IlmPolicyBody['policy']['phases'];
  return {
    policy: {
      phases,
      _meta: {
        ...assetMeta(phases, 'full'),
        description: `logs-provmon.${dataset}-*: roll over daily (or at 50gb per primary shard), delete ${retentionDays} days after rollover`,
      },
    },
  };
}

export function lifecyclePolicies(retention: Record<Dataset, number>): [string, IlmPolicyBody][] {
  return DATASETS.map((d) => [lifecycleName(d), lifecyclePolicy(d, retention[d])]);
}
