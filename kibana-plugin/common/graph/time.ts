/**
 * Instants and their order. Causality is the whole point of the engine, so "before" is defined once, here.
 *
 * A millisecond is too coarse: a fork, an exec and the first open routinely share one. The sensor numbers the
 * events it observes per host (`event.sequence`), so two instants on the same host in the same millisecond are
 * ordered by that number. Anything else in the same millisecond is *unordered*, and every caller treats
 * unordered as "may have happened first" — losing a real dependency is worse than keeping a spurious one.
 */

export interface Instant {
  /** epoch milliseconds; sub-millisecond digits of the timestamp are kept as the fraction. */
  t: number;
  /** `event.sequence`, only when this instant is the document's own `@timestamp` (the order the sensor saw). */
  seq?: number;
  /** host.id the sequence belongs to: sequences of two hosts are not comparable. */
  host?: string;
}

export const NEG_INF: Instant = { t: -Infinity };
export const POS_INF: Instant = { t: Infinity };

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:[.,](\d+))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Epoch milliseconds of an ISO-8601 timestamp, keeping microseconds and nanoseconds as the fraction
 * (Elasticsearch `date_nanos` renders them; `Date.parse` does not promise to read more than three digits).
 */
export function parseTimestamp(iso: string): number {
  const fast = parseUtcFast(iso);
  if (fast !== undefined) return fast;
  const m = ISO.exec(iso);
  if (!m) {
    const fallback = Date.parse(iso);
    if (Number.isNaN(fallback)) throw new Error(`not a timestamp: ${JSON.stringify(iso)}`);
    return fallback;
  }
  const whole = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(whole)) throw new Error(`not a timestamp: ${JSON.stringify(iso)}`);
  const digits = m[2];
  return digits ? whole + Number(`0.${digits}`) * 1000 : whole;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, what the sensor and Elasticsearch write, without a regex or Date.parse:
 * timestamps are parsed for every event the tracker reads, so this is a hot path.
 */
function parseUtcFast(s: string): number | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 90 /* Z */ || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const d = (i: number) => s.charCodeAt(i) - 48;
  const year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const month = d(5) * 10 + d(6);
  const day = d(8) * 10 + d(9);
  const hour = d(11) * 10 + d(12);
  const minute = d(14) * 10 + d(15);
  const second = d(17) * 10 + d(18);
  // Plain comparisons (no array or closure per call): the local store parses every event's timestamp on capture.
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || month > 12 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (n > 20) {
    if (s.charCodeAt(19) !== 46 /* . */) return undefined;
    let scale = 100;
    let frac = 0;
    for (let i = 20; i < n - 1; i++) {
      const c = d(i);
      if (c < 0 || c > 9) return undefined;
      frac += c * scale;
      scale /= 10;
    }
    ms += frac;
  }
  return ms;
}

/** ISO string for a query bound: `floor` for a lower bound, `ceil` for an upper one, so no event is cut off. */
export function isoBound(t: number, round: 'floor' | 'ceil'): string {
  return new Date(round === 'floor' ? Math.floor(t) : Math.ceil(t)).toISOString();
}

/**
 * -1: a is before b; 1: a is after b; 0: the same instant, or not orderable (same time, no comparable sequence).
 */
export function cmpInstant(a: Instant, b: Instant): -1 | 0 | 1 {
  if (a.t < b.t) return -1;
  if (a.t > b.t) return 1;
  if (a.seq !== undefined && b.seq !== undefined && a.host === b.host) {
    return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
  }
  return 0;
}

/** True when the order of a and b is known. Identical instants (same host and sequence) count as known. */
export function ordered(a: Instant, b: Instant): boolean {
  if (a.t !== b.t) return true;
  return a.seq !== undefined && b.seq !== undefined && a.host === b.host;
}

/** a happened before b, or may have (unordered). The conservative test for "a can be a cause of b". */
export function mayPrecede(a: Instant, b: Instant): boolean {
  const c = cmpInstant(a, b);
  return c < 0 || (c === 0 && !ordered(a, b));
}

/** a happened after b, or may have (unordered). */
export function mayFollow(a: Instant, b: Instant): boolean {
  const c = cmpInstant(a, b);
  return c > 0 || (c === 0 && !ordered(a, b));
}

/** The earlier of two instants (a when they tie or cannot be ordered). */
export function minInstant(a: Instant, b: Instant): Instant {
  return cmpInstant(b, a) < 0 ? b : a;
}

/** The later of two instants (a when they tie or cannot be ordered). */
export function maxInstant(a: Instant, b: Instant): Instant {
  return cmpInstant(b, a) > 0 ? b : a;
}

/** Total order for deterministic output: time, then host, then sequence (absent first). */
export function sortInstant(a: Instant, b: Instant): number {
  if (a.t !== b.t) return a.t < b.t ? -1 : 1;
  const ha = a.host ?? '';
  const hb = b.host ?? '';
  if (ha !== hb) return ha < hb ? -1 : 1;
  return (a.seq ?? -1) - (b.seq ?? -1);
}
