/**
 * Route calls through core.http; a failure becomes a danger toast naming the route's message, never a blank page.
 * While the app looks at an uploaded case (`?case=` in the page URL), every route call reads that case.
 */
import { CASE_PARAM } from '../common/case-param.ts';
import type { CoreStart, HttpFetchError } from './kibana-types.ts';

export function messageOf(error: unknown): string {
  const e = error as HttpFetchError;
  return e?.body?.message ?? e?.message ?? String(error);
}

export async function getJson<T>(core: CoreStart, path: string, query: Record<string, string>, what: string): Promise<T | undefined> {
  const caseId = new URLSearchParams(window.location.search).get(CASE_PARAM);
  try {
    return await core.http.get<T>(path, { query: caseId && !(CASE_PARAM in query) ? { ...query, [CASE_PARAM]: caseId } : query });
  } catch (error) {
    core.notifications.toasts.addDanger({ title: `Could not load ${what}`, text: messageOf(error) });
    return undefined;
  }
}

/** Only the set, non-empty values (the routes refuse unknown and empty parameters alike). */
export function compact(values: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
