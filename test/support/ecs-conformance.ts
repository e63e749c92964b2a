/**
 * Checks a document against the official ECS definitions (`EcsFlat` of the npm package @elastic/ecs, generated from
 * ecs_flat.yml): every field is ECS or under provmon.*, each value has its field's type, fields ECS normalises to
 * arrays are arrays, categorisation fields take allowed values, and each event.type is one ECS expects for one of
 * the document's categories. Tests feed it every document the kernel and packet tests produce.
 */
import { isIP } from 'node:net';
import { EcsFlat } from '@elastic/ecs';

interface FieldDef {
  type: string;
  normalize?: string[];
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}

const FIELDS = EcsFlat as unknown as Record<string, FieldDef>;

const STRING_TYPES = new Set(['keyword', 'wildcard', 'constant_keyword', 'match_only_text', 'text']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT_TYPES = new Set(['float', 'double', 'scaled_float', 'half_float']);

/** Expected event.type values per event.category, from ECS's own allowed_values. */
const EXPECTED_TYPES = new Map((FIELDS['event.category']?.allowed_values ?? []).map((v) => [v.name, new Set(v.expected_event_types ?? [])]));

function typeError(def: FieldDef, value: unknown): string | undefined {
  const t = def.type;
  if (STRING_TYPES.has(t)) return typeof value === 'string' ? undefined : `${t} expects a string`;
  if (INTEGER_TYPES.has(t)) return typeof value === 'number' && Number.isInteger(value) ? undefined : `${t} expects an integer`;
  if (FLOAT_TYPES.has(t)) return typeof value === 'number' ? undefined : `${t} expects a number`;
  if (t === 'boolean') return typeof value === 'boolean' ? undefined : 'boolean expects true/false';
  if (t === 'date') return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : 'date expects an ISO-8601 string';
  if (t === 'ip') return typeof value === 'string' && isIP(value) !== 0 ? undefined : 'ip expects an IPv4/IPv6 address';
  if (t === 'object' || t === 'nested' || t === 'flattened') return typeof value === 'object' && value !== null ? undefined : `${t} expects an object`;
  return undefined; // geo_point and friends: provmon writes none
}

/** Leaves of a document as (dotted path, value, is the value an array element) with arrays of objects walked into. */
function* leaves(value: unknown, path: string, inArray = false): Generator<[string, unknown, boolean]> {
  if (Array.isArray(value)) {
    if (value.length && value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v)) && FIELDS[path]?.type !== 'flattened') {
      yield [path, value, false];
      for (const v of value) yield* leaves(v, path, true);
      return;
    }
    yield [path, value, inArray];
    return;
  }
  if (typeof value === 'object' && value !== null && !(path && FIELDS[path]?.type === 'flattened')) {
    for (const [k, v] of Object.entries(value)) yield* leaves(v, path ? `${path}.${k}` : k, inArray);
    return;
  }
  yield [path, value, inArray];
}

/** Violations in one document, each naming the field; empty when it conforms. */
export function ecsViolations(doc: object): string[] {
  const out: string[] = [];
  for (const [path, value, inObjectArray] of leaves(doc, '')) {
    if (path === 'provmon' || path.startsWith('provmon.')) continue;
    const def = FIELDS[path];
    if (!def) {
      out.push(`${path}: not an ECS field (custom fields belong under provmon.*)`);
      continue;
    }
    const isArrayField = def.normalize?.includes('array') ?? false;
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && (def.type === 'object' || def.type === 'nested')) continue; // walked into above
    if (Array.isArray(value) && !isArrayField && !inObjectArray) out.push(`${path}: ECS does not make this field an array`);
    if (!Array.isArray(value) && isArrayField) out.push(`${path}: ECS normalises this field to an array`);
    for (const v of values) {
      const err = typeError(def, v);
      if (err) out.push(`${path}: ${err}, got ${JSON.stringify(v)}`);
      else if (def.allowed_values && !def.allowed_values.some((a) => a.name === v)) out.push(`${path}: ${JSON.stringify(v)} is not an allowed value`);
    }
  }
  const event = (doc as { event?: { category?: string[]; type?: string[] } }).event;
  if (Array.isArray(event?.category) && Array.isArray(event.type)) {
    for (const t of event.type) {
      if (!event.category.some((c) => EXPECTED_TYPES.get(c)?.has(t))) out.push(`event.type: ${t} is not expected for category ${event.category.join(',')}`);
    }
  }
  return out;
}

/** Violations over many documents, grouped by message with one example action each (short failure output). */
export function ecsReport(docs: object[]): Record<string, string> {
  const report: Record<string, string> = {};
  for (const doc of docs) {
    const action = (doc as { event?: { action?: string } }).event?.action ?? '?';
    for (const v of ecsViolations(doc)) report[v] ??= action;
  }
  return report;
}
