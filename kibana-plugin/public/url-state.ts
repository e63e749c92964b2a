/** Page state lives in the URL's query string, so any view can be shared or reloaded as it was. */
import type { ScopedHistory } from './kibana-types.ts';

export function readState(history: ScopedHistory): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(history.location.search));
}

export function pushState(history: ScopedHistory, page: string, state: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== undefined && v !== '') q.set(k, v);
  const search = q.toString();
  history.push(`${page}${search ? `?${search}` : ''}`);
}
