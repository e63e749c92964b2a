/**
 * The narrative endpoint's settings, one shape wherever they come from: `narrative.*` of the provmon config (the
 * CLI and `provmon ui`) and `provmon.narrative.*` of kibana.yml (the Kibana plugin). Kibana validates them with its
 * own schema first; this plain function checks them again, so both hosts hand the routes the same checked value.
 */
import { shownUrl, type NarrativeEndpoint } from './narrative.ts';

export interface NarrativeSettings {
  /** base URL of an Ollama- or OpenAI-compatible endpoint; '' = none */
  url: string;
  api: 'ollama' | 'openai';
  model: string;
  timeout_s: number;
  /** never logged, never sent to a browser */
  api_key: string;
}

/**
 * The longest wait for a model: `provmon ui`'s server (Bun) closes a socket idle for 255 s at most, and a
 * narrative request is idle while the model thinks.
 */
export const MAX_NARRATIVE_TIMEOUT_S = 240;

export const NARRATIVE_DEFAULTS: NarrativeSettings = { url: '', api: 'ollama', model: '', timeout_s: 60, api_key: '' };

const KEYS = Object.keys(NARRATIVE_DEFAULTS) as (keyof NarrativeSettings)[];

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Checks raw settings (missing keys take their defaults); a problem names the key under `prefix`. */
export function readNarrativeSettings(raw: unknown, prefix = 'narrative'): { ok: true; value: NarrativeSettings } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, value: { ...NARRATIVE_DEFAULTS } };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, message: `${prefix}: expected an object with ${KEYS.join(', ')}` };
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !(KEYS as string[]).includes(k));
  if (unknown.length) return { ok: false, message: `${prefix}.${unknown[0]}: unknown key (expected ${KEYS.join(', ')})` };
  const v = { ...NARRATIVE_DEFAULTS, ...Object.fromEntries(Object.entries(r).filter(([, x]) => x !== undefined)) } as Record<string, unknown>;
  for (const k of ['url', 'model', 'api_key'] as const) if (typeof v[k] !== 'string') return { ok: false, message: `${prefix}.${k}: expected a string` };
  if (v.url !== '' && !isHttpUrl(v.url as string)) return { ok: false, message: `${prefix}.url: expected an http:// or https:// URL, got ${JSON.stringify(v.url)}` };
  if (v.api !== 'ollama' && v.api !== 'openai') return { ok: false, message: `${prefix}.api: expected "ollama" or "openai", got ${JSON.stringify(v.api)}` };
  const t = v.timeout_s;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_NARRATIVE_TIMEOUT_S) {
    return { ok: false, message: `${prefix}.timeout_s: expected a whole number of seconds from 1 to ${MAX_NARRATIVE_TIMEOUT_S}, got ${JSON.stringify(t)}` };
  }
  return { ok: true, value: v as unknown as NarrativeSettings };
}

/** What narrate() calls, or undefined when no endpoint is configured. */
export function narrativeEndpoint(s: NarrativeSettings): NarrativeEndpoint | undefined {
  if (!s.url) return undefined;
  return { url: s.url, api: s.api, model: s.model, timeoutMs: s.timeout_s * 1000, ...(s.api_key ? { apiKey: s.api_key } : {}) };
}

/** One line for a host's start-up log: where the narrative goes, never the key (only whether one is set). */
export function describeNarrative(endpoint: NarrativeEndpoint | undefined): string {
  if (!endpoint) return 'narrative: no endpoint configured (the deterministic summary only)';
  return `narrative: ${endpoint.api} endpoint ${shownUrl(endpoint.url)}, model ${endpoint.model || '(none: narrative.model is empty)'}, timeout ${endpoint.timeoutMs / 1000} s, api key ${endpoint.apiKey ? 'set' : 'not set'}`;
}
