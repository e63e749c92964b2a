/**
 * Time bounds as `provmon graph --from/--to` and the routes' `from`/`to` take them: ISO 8601
 * (`2026-11-24T10:00:00Z`, `2026-11-24T10:00:00.123456Z`, `2026-11-24`, with an offset), `now`, or a duration
 * before now (`90s`, `15m`, `2h`, `7d`, `1w`). Returned as ISO 8601 UTC; digits beyond the millisecond are kept.
 */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export const TIME_BOUND_FORMS = 'ISO 8601 (2026-11-24T10:00:00Z, 2026-11-24), now, or a duration before now (15m, 2h, 7d)';

export function parseTimeBound(value: string, now = Date.now()): string {
  const v = value.trim();
  if (v === 'now') return new Date(now).toISOString();
  const rel = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(v);
  if (rel) {
    const at = new Date(now - Number(rel[1]) * UNIT_MS[rel[2]!]!);
    // A Date holds ±8.64e15 ms (about 273,000 years) around 1970; beyond it there is no time to compare with.
    if (Number.isNaN(at.getTime())) throw new Error(`${v} before now is earlier than any time a date can hold; use a shorter duration or an ISO 8601 date`);
    return at.toISOString();
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{4,9}Z$/.test(v)) return v;
  if (/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/.test(v)) {
    // A date or time without a zone is UTC (a sensor's clock, not the reader's).
    const iso = v.replace(' ', 'T');
    const zoned = /T/.test(iso) && !/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? `${iso}Z` : iso;
    const ms = Date.parse(zoned);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  throw new Error(`expected ${TIME_BOUND_FORMS}`);
}
