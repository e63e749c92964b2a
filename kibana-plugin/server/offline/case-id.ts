/**
 * The one place that decides what a case id is and where a case lives: a local store directory under the cases
 * directory, or the data stream namespace `case_<id>` in Elasticsearch. Ids are made here, never taken from a
 * client: a request naming a case is checked against the exact form, so no path or index pattern can be smuggled in.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CASE_PARAM } from '../../common/case-param.ts';

export { CASE_PARAM };

const ID_FORM = /^[a-z0-9]{16}$/;
export const CASE_ID_FORM = '16 lowercase letters or digits, as the upload answered';

export function newCaseId(): string {
  // 10 random bytes in base 32 (a-z, 2-7): 16 characters, 80 bits
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function isCaseId(value: unknown): value is string {
  return typeof value === 'string' && ID_FORM.test(value);
}

export function caseNamespace(id: string): string {
  return `case_${id}`;
}

/** Every data stream of one case (the read routes' index when a request names the case). */
export function caseIndex(id: string): string {
  return `logs-provmon.*-${caseNamespace(id)}`;
}

export function caseDir(casesDir: string, id: string): string {
  return join(casesDir, id);
}

/**
 * Splits the `case` parameter off a read route's raw query (the routes' own validators refuse unknown parameters,
 * and a case is the host's business: it selects the store). Throws a message naming the problem.
 */
export function splitCase(raw: unknown): { caseId?: string; query: unknown } {
  if (raw === null || typeof raw !== 'object' || !(CASE_PARAM in raw)) return { query: raw };
  const { [CASE_PARAM]: value, ...rest } = raw as Record<string, unknown>;
  if (value === undefined || value === '') return { query: rest };
  if (!isCaseId(value)) throw new Error(`${CASE_PARAM}: expected a case id (${CASE_ID_FORM}), got ${JSON.stringify(value).slice(0, 80)}`);
  return { caseId: value, query: rest };
}
