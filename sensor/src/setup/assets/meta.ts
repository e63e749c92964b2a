import { createHash } from 'node:crypto';
import type { AssetMeta, Profile } from './types.ts';

/**
 * The version of provmon's Elasticsearch assets. Bump it whenever an asset changes meaning; `provmon setup`
 * upgrades an installed asset whose `_meta.version` or `_meta.hash` differs from what it would install.
 */
export const ASSETS_VERSION = 1;

/** JSON with object keys sorted, so equal bodies hash equally whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16);
}

export function assetMeta(body: unknown, profile: Profile): AssetMeta {
  return { managed_by: 'provmon', managed: true, version: ASSETS_VERSION, hash: bodyHash(body), profile };
}
