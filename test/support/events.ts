import type { Dataset, EcsEvent, EventAction } from '../../kibana-plugin/common/ecs.ts';

let sequence = 0;

/** A minimal valid provmon document for store and graph tests; `extra` is merged on top. */
export function makeEvent(dataset: Dataset, action: EventAction, at: number, extra: Partial<EcsEvent> = {}): EcsEvent {
  sequence += 1;
  return {
    '@timestamp': new Date(at).toISOString(),
    event: {
      kind: 'event',
      category: [dataset === 'flow' || dataset === 'dns' ? 'network' : dataset],
      type: ['info'],
      action,
      dataset: `provmon.${dataset}`,
      module: 'provmon',
      id: `test-${sequence}`,
      sequence,
    },
    host: { name: 'test-host', id: 'test-host-id' },
    data_stream: { type: 'logs', dataset: `provmon.${dataset}`, namespace: 'default' },
    ...extra,
  };
}
