/**
 * The alert rules shipped in kibana-plugin/rules/: one file per rule, each the complete create body. A rule's id
 * is a UUID v4 derived from its file name (Kibana wants a UUID; the name stays readable), so `provmon setup
 * --kibana` creates or updates the same rule every time.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { createRuleSchema, type CreateRuleBody, type UpdateRuleBody } from './rule-schema.ts';

export const RULES_DIR = resolve(import.meta.dir, '../../../kibana-plugin/rules');

export interface ShippedRule {
  /** file name without .json */
  name: string;
  id: string;
  body: CreateRuleBody;
}

export function ruleId(name: string): string {
  const b = createHash('sha256').update(`provmon-rule:${name}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function loadRules(dir = RULES_DIR): ShippedRule[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const name = basename(file, '.json');
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (error) {
        throw new ProvmonError(`rule ${file} is not valid JSON: ${(error as Error).message}`);
      }
      const parsed = createRuleSchema.safeParse(raw);
      if (!parsed.success) throw new ProvmonError(`rule ${file} is not a valid create-rule body: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return { name, id: ruleId(name), body: parsed.data };
    });
}

/** The update body: the create body without what PUT refuses. */
export function updateBody(body: CreateRuleBody): UpdateRuleBody {
  const { rule_type_id: _t, consumer: _c, enabled: _e, ...rest } = body;
  return rest;
}

/** The rule's DSL query (the `query` of its esQuery string). */
export function ruleQuery(rule: ShippedRule): Record<string, unknown> {
  return (JSON.parse(rule.body.params.esQuery) as { query: Record<string, unknown> }).query;
}
