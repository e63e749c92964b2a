/**
 * Page state lives in the URL's query string, so any view can be shared or reloaded as it was. The case being
 * looked at (`case`, Offline analysis) follows every navigation until a state sets it to undefined.
 */
import { CASE_PARAM } from '../common/case-param.ts';
import type { ScopedHistory } from './kibana-types.ts';

export function readState(history: ScopedHistory): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(history.location.search));
}

export function pushState(history: ScopedHistory, page: string, state: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  const current = new URLSearchParams(history.location.search).get(CASE_PARAM);
  if (current && !(CASE_PARAM in state)) q.set(CASE_PARAM, current);
  for (const [k, v] of Object.entries(state)) if (v !== undefined && v !== '') q.set(k, v);
  const search = q.toString();
  history.push(`${page}${search ? `?${search}` : ''}`);
}
