/**
 * What the events app and the overview ask for beyond the engine's selectors: narrowing by host, action, process
 * name, pid, ppid, entity id and free text. One predicate (`matchesFilter`) is the meaning; every store answers
 * through the engine's EventSource (time window + datasets, see ../graph/source.ts) and this predicate, so the
 * local store and Elasticsearch cannot disagree on what "process curl" matches.
 * Pure TypeScript: shared by the Kibana server, `provmon ui` and tests.
 */
import { datasetName, type Dataset, type EcsEvent } from '../ecs.ts';

export interface EventFilter {
  hosts?: string[];
  actions?: string[];
  /** process.name, exact */
  processName?: string;
  pid?: number;
  ppid?: number;
  /** process.entity_id or process.parent.entity_id */
  entityId?: string;
  /** case-insensitive substring of the action, process name, executable, args, file path, addresses, domain or account names */
  text?: string;
  outcome?: 'success' | 'failure';
}

/** What the events app searches: the engine's datasets plus audit (logins, sudo, account changes of an analysed case). */
export const SEARCH_DATASETS: Dataset[] = ['process', 'file', 'network', 'dns', 'audit'];

/**
 * `matchesFilter` as Elasticsearch filter clauses (terms on the fields it compares), for stores that count with
 * aggregations; undefined when the filter has free text, which is a substring over several fields, arguments joined:
 * no mapped field holds that, so those searches read the documents and keep what matchesFilter keeps.
 */
export function filterClauses(f: EventFilter): Record<string, unknown>[] | undefined {
  if (f.text) return undefined;
  const either = (a: string, b: string, values: unknown[]) => ({ bool: { should: [{ terms: { [a]: values } }, { terms: { [b]: values } }], minimum_should_match: 1 } });
  const clauses: Record<string, unknown>[] = [];
  if (f.hosts?.length) clauses.push(either('host.name', 'host.id', f.hosts));
  if (f.actions?.length) clauses.push({ terms: { 'event.action': f.actions } });
  if (f.outcome) clauses.push({ term: { 'event.outcome': f.outcome } });
  if (f.processName !== undefined) clauses.push({ term: { 'process.name': f.processName } });
  if (f.pid !== undefined) clauses.push({ term: { 'process.pid': f.pid } });
  if (f.ppid !== undefined) clauses.push({ term: { 'process.parent.pid': f.ppid } });
  if (f.entityId !== undefined) clauses.push(either('process.entity_id', 'process.parent.entity_id', [f.entityId]));
  return clauses;
}

export function matchesFilter(ev: EcsEvent, f: EventFilter): boolean {
  if (f.hosts?.length && !f.hosts.includes(ev.host?.name) && !f.hosts.includes(ev.host?.id)) return false;
  if (f.actions?.length && !f.actions.includes(ev.event.action)) return false;
  if (f.outcome && ev.event.outcome !== f.outcome) return false;
  const p = ev.process;
  if (f.processName !== undefined && p?.name !== f.processName) return false;
  if (f.pid !== undefined && p?.pid !== f.pid) return false;
  if (f.ppid !== undefined && p?.parent?.pid !== f.ppid) return false;
  if (f.entityId !== undefined && p?.entity_id !== f.entityId && p?.parent?.entity_id !== f.entityId) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    if (!searchableText(ev).some((s) => s.toLowerCase().includes(needle))) return false;
  }
  return true;
}

function searchableText(ev: EcsEvent): string[] {
  const out: string[] = [ev.event.action];
  const p = ev.process;
  if (p?.name) out.push(p.name);
  if (p?.executable) out.push(p.executable);
  if (p?.args) out.push(p.args.join(' '));
  if (ev.file?.path) out.push(ev.file.path);
  if (ev.provmon?.file?.source_path) out.push(ev.provmon.file.source_path);
  for (const ep of [ev.source, ev.destination]) {
    if (ep?.ip) out.push(ep.port === undefined ? ep.ip : `${ep.ip}:${ep.port}`);
    if (ep?.domain) out.push(ep.domain);
  }
  if (ev.dns?.question?.name) out.push(ev.dns.question.name);
  for (const account of [ev.user, ev.user?.target, ev.group]) if (account?.name) out.push(account.name);
  return out;
}

/**
 * What the event acted on, as one string: the file path (old → new for a rename), the peer's ip:port for
 * network events (the remote side of an accept), the image an exec loaded, the query of a DNS event.
 */
export function eventTarget(ev: EcsEvent): string | undefined {
  const action = ev.event.action;
  if (action === 'exec') return ev.process?.executable;
  if (ev.file?.path) return ev.provmon?.file?.source_path ? `${ev.provmon.file.source_path} → ${ev.file.path}` : ev.file.path;
  if (ev.dns?.question?.name) return ev.dns.question.name;
  // an audit record about an account (a login, sudo, useradd): the account acted on, else the one acting
  const account = ev.user?.target?.name ?? ev.group?.name ?? (ev.event.dataset === datasetName('audit') ? ev.user?.name : undefined);
  if (account) return account;
  const peer = action === 'connection_accepted' ? ev.source : (ev.destination ?? ev.source);
  if (peer?.ip) return `${peer.ip.includes(':') ? `[${peer.ip}]` : peer.ip}${peer.port === undefined ? '' : `:${peer.port}`}`;
  return undefined;
}
