/**
 * Query-parameter validation as plain functions: every failure names the parameter and what it expected.
 * Unknown parameters are refused (a typo must not silently widen a search).
 */
import { checkedPoi, POI_FORMS } from '../common/graph/request.ts';
import type { Poi } from '../common/graph/poi.ts';
import { parseTimeBound, TIME_BOUND_FORMS } from '../common/graph/time-bound.ts';
import type { Validation, Validator } from './http.ts';

export class ParamError extends Error {}

export type Raw = Record<string, string | undefined>;

/** Reads one query object with typed getters; collects nothing, throws the first problem as a ParamError. */
export class Params {
  private readonly raw: Raw;
  constructor(data: unknown, allowed: readonly string[]) {
    if (data === null || data === undefined) this.raw = {};
    else if (typeof data !== 'object') throw new ParamError('expected query parameters');
    else {
      this.raw = {};
      for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
        if (!allowed.includes(k)) throw new ParamError(`unknown parameter ${JSON.stringify(k)} (expected one of: ${allowed.join(', ')})`);
        if (Array.isArray(v)) throw new ParamError(`${k}: given more than once`);
        if (v !== undefined && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ParamError(`${k}: expected a single value`);
        if (v !== undefined) this.raw[k] = String(v);
      }
    }
  }

  string(name: string): string | undefined {
    const v = this.raw[name];
    return v === undefined || v === '' ? undefined : v;
  }

  required(name: string, forms: string): string {
    const v = this.string(name);
    if (v === undefined) throw new ParamError(`${name} is required: ${forms}`);
    return v;
  }

  int(name: string, min: number, max: number): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new ParamError(`${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return n;
  }

  oneOf<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(choices as readonly string[]).includes(v)) throw new ParamError(`${name}: expected ${choices.join(' | ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  bool(name: string): boolean | undefined {
    const v = this.oneOf(name, ['true', 'false']);
    return v === undefined ? undefined : v === 'true';
  }

  time(name: string, now: number): string | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    try {
      return parseTimeBound(v, now);
    } catch {
      throw new ParamError(`${name}: expected ${TIME_BOUND_FORMS}, got ${JSON.stringify(v)}`);
    }
  }

  /** from/to, checked for order. */
  window(now: number): { from?: string; to?: string } {
    const from = this.time('from', now);
    const to = this.time('to', now);
    if (from && to && Date.parse(from) > Date.parse(to)) throw new ParamError(`from (${from}) is after to (${to})`);
    return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
  }

  poi(name: string): Poi {
    const text = this.required(name, POI_FORMS);
    try {
      return checkedPoi(text);
    } catch (error) {
      throw new ParamError(`${name}: ${(error as Error).message} (expected ${POI_FORMS})`);
    }
  }

  list(name: string): string[] | undefined {
    const v = this.string(name);
    return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
  }
}

/** A validator from a reader: the reader throws ParamError for bad input. */
export function validator<T>(allowed: readonly string[], read: (p: Params) => T): Validator<T> {
  return (data: unknown): Validation<T> => {
    try {
      return { ok: true, value: read(new Params(data, allowed)) };
    } catch (error) {
      if (error instanceof ParamError) return { ok: false, message: error.message };
      throw error;
    }
  };
}
