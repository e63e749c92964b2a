/**
 * The request bodies of Kibana's alerting API for the `.es-query` rule type, as documented (create: POST
 * /api/alerting/rule/<id>; update: PUT /api/alerting/rule/<id>, which refuses rule_type_id, consumer and enabled),
 * and of the es-query params (`searchType: esQuery`). Strict objects: Kibana's own schemas refuse unknown keys, so
 * a typo fails here first. Kibana cannot run on this machine: these schemas are what the rule files and
 * `provmon setup --kibana` are checked against.
 */
import { z } from 'zod';

const comparator = z.enum(['>', '>=', '<', '<=', 'between', 'notBetween']);

export const esQueryParamsSchema = z.strictObject({
  searchType: z.literal('esQuery'),
  index: z.array(z.string().min(1)).min(1),
  timeField: z.string().min(1),
  /** the DSL as a JSON string holding `query` */
  esQuery: z.string().refine((s) => {
    try {
      const q = JSON.parse(s) as unknown;
      return typeof q === 'object' && q !== null && 'query' in q;
    } catch {
      return false;
    }
  }, 'esQuery must be a JSON string of an object with a "query" key'),
  size: z.number().int().min(0).max(10_000),
  timeWindowSize: z.number().int().min(1),
  timeWindowUnit: z.enum(['s', 'm', 'h', 'd']),
  threshold: z.array(z.number()).min(1).max(2),
  thresholdComparator: comparator,
  excludeHitsFromPreviousRun: z.boolean().optional(),
  aggType: z.enum(['count', 'avg', 'min', 'max', 'sum']).optional(),
  aggField: z.string().optional(),
  groupBy: z.enum(['all', 'top']).optional(),
  termField: z.string().optional(),
  termSize: z.number().int().min(1).optional(),
  sourceFields: z.array(z.strictObject({ label: z.string(), searchPath: z.string() })).optional(),
}).refine((p) => p.groupBy !== 'top' || p.termField, 'groupBy "top" needs termField')
  .refine((p) => !(p.groupBy === 'top' && p.excludeHitsFromPreviousRun), 'excludeHitsFromPreviousRun is not available with a grouping field')
  .refine((p) => (p.thresholdComparator === 'between' || p.thresholdComparator === 'notBetween') === (p.threshold.length === 2), 'between/notBetween take two thresholds, the others one');

const action = z.strictObject({
  group: z.string(),
  id: z.string(),
  params: z.record(z.string(), z.unknown()),
  frequency: z.strictObject({ summary: z.boolean(), notify_when: z.enum(['onActionGroupChange', 'onActiveAlert', 'onThrottleInterval']), throttle: z.string().nullable() }).optional(),
});

const updatable = {
  name: z.string().min(1),
  tags: z.array(z.string()).optional(),
  schedule: z.strictObject({ interval: z.string().regex(/^\d+[smhd]$/, 'schedule.interval: a number and s, m, h or d') }),
  params: esQueryParamsSchema,
  actions: z.array(action),
  throttle: z.string().nullable().optional(),
  notify_when: z.enum(['onActionGroupChange', 'onActiveAlert', 'onThrottleInterval']).nullable().optional(),
};

export const createRuleSchema = z.strictObject({
  ...updatable,
  rule_type_id: z.literal('.es-query'),
  consumer: z.enum(['alerts', 'stackAlerts', 'infrastructure', 'logs', 'observability', 'siem']),
  enabled: z.boolean().optional(),
});

export const updateRuleSchema = z.strictObject(updatable);

export type CreateRuleBody = z.infer<typeof createRuleSchema>;
export type UpdateRuleBody = z.infer<typeof updateRuleSchema>;

/** Kibana's rule ids (the path's <id>) must be UUID v1 or v4. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
