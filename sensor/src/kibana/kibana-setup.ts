/**
 * `provmon setup --kibana URL`: imports the shipped saved objects (overwrite: running it again replaces them) and
 * creates or updates every shipped alert rule by its fixed id, in a space if asked, with basic auth or an API key,
 * over TLS with a CA file if given. Prints one line per thing it did. Kibana's documented APIs: POST
 * /api/saved_objects/_import?overwrite=true (multipart, part `file`), GET/POST/PUT /api/alerting/rule/<id>; every
 * request carries `kbn-xsrf`. Secrets come from the environment, never from the command line, and are never printed.
 */
import { readFileSync } from 'node:fs';
import { ProvmonError } from '../errors.ts';
import { loadRules, updateBody, type ShippedRule } from './rules.ts';
import { loadSavedObjects, type SavedObjectFile } from './saved-objects.ts';

export interface KibanaTarget {
  url: string;
  space?: string;
  username?: string;
  password?: string;
  apiKey?: string;
  caFile?: string;
}

export interface KibanaSetupOptions {
  print: (line: string) => void;
  rules?: ShippedRule[];
  savedObjects?: SavedObjectFile[];
  /** per request, ms */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  body: unknown;
}

class KibanaApi {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly tls: { ca: string } | undefined;

  constructor(private readonly target: KibanaTarget, private readonly timeoutMs: number) {
    let u: URL;
    try {
      u = new URL(target.url);
    } catch {
      throw new ProvmonError(`--kibana ${JSON.stringify(target.url)} is not a URL`, { hint: 'e.g. --kibana https://kibana.example:5601', exitCode: 2 });
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ProvmonError(`--kibana must be an http or https URL, got ${u.protocol}`, { exitCode: 2 });
    if (target.space !== undefined && !/^[a-z0-9_-]+$/.test(target.space)) throw new ProvmonError(`--space ${JSON.stringify(target.space)}: a space id has lower-case letters, digits, _ and - only`, { exitCode: 2 });
    if (target.apiKey && target.username) throw new ProvmonError('give basic auth or an API key, not both', { exitCode: 2 });
    this.base = `${u.origin}${u.pathname.replace(/\/$/, '')}${target.space && target.space !== 'default' ? `/s/${target.space}` : ''}`;
    this.headers = { 'kbn-xsrf': 'provmon', 'elastic-api-version': '2023-10-31' };
    if (target.apiKey) this.headers.authorization = `ApiKey ${target.apiKey}`;
    else if (target.username) this.headers.authorization = `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}`;
    if (target.caFile) {
      try {
        this.tls = { ca: readFileSync(target.caFile, 'utf8') };
      } catch (error) {
        throw new ProvmonError(`--ca-file ${target.caFile}: ${(error as Error).message}`, { exitCode: 2 });
      }
    }
  }

  async call(method: string, path: string, body?: BodyInit, contentType?: string): Promise<Answer> {
    let r: Response;
    try {
      r = await fetch(`${this.base}${path}`, {
        method,
        headers: { ...this.headers, ...(contentType ? { 'content-type': contentType } : {}) },
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.tls ? { tls: this.tls } : {}),
      } as RequestInit);
    } catch (error) {
      throw new ProvmonError(`Kibana at ${this.target.url} is not reachable (${method} ${path}): ${(error as Error).message}`, {
        hint: 'check the URL, that Kibana is running, and --ca-file for a certificate signed by your own CA',
      });
    }
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the message
    }
    if (r.status === 401) throw new ProvmonError(`Kibana at ${this.target.url} refused the credentials (HTTP 401)`, { hint: 'set PROVMON_KIBANA_PASSWORD with --kibana-user, or PROVMON_KIBANA_API_KEY' });
    if (r.status === 403) throw new ProvmonError(`Kibana denied ${method} ${path} (HTTP 403): ${messageOf(parsed)}`, { hint: 'the user needs the Saved Objects Management and Stack Rules privileges (all)' });
    return { status: r.status, body: parsed };
  }
}

function messageOf(body: unknown): string {
  const b = body as { message?: string; error?: string } | string | undefined;
  if (typeof b === 'string') return b.slice(0, 300);
  return b?.message ?? b?.error ?? JSON.stringify(b)?.slice(0, 300) ?? '';
}

function fail(what: string, a: Answer): never {
  throw new ProvmonError(`${what}: Kibana answered HTTP ${a.status}: ${messageOf(a.body)}`);
}

export async function setupKibana(target: KibanaTarget, options: KibanaSetupOptions): Promise<void> {
  const api = new KibanaApi(target, options.timeoutMs ?? 30_000);
  const files = options.savedObjects ?? loadSavedObjects();
  const rules = options.rules ?? loadRules();
  const where = `${target.url}${target.space ? ` (space ${target.space})` : ''}`;

  const status = await api.call('GET', '/api/status');
  if (status.status >= 400) fail(`Kibana at ${where} is not ready`, status);
  const version = (status.body as { version?: { number?: string } } | undefined)?.version?.number;
  options.print(`Kibana ${version ?? '(version not reported)'} at ${where}`);

  const form = new FormData();
  const ndjson = files.map((f) => f.text.endsWith('\n') ? f.text : `${f.text}\n`).join('');
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'provmon.ndjson');
  const imported = await api.call('POST', '/api/saved_objects/_import?overwrite=true', form);
  const result = imported.body as { success?: boolean; successCount?: number; errors?: { id: string; type: string; error: { type: string; message?: string } }[] } | undefined;
  if (imported.status >= 400 || !result) fail('saved objects import', imported);
  const objects = files.flatMap((f) => f.objects);
  if (!result.success) {
    const errors = (result.errors ?? []).map((e) => `${e.type} ${e.id}: ${e.error.type}${e.error.message ? ` (${e.error.message})` : ''}`);
    throw new ProvmonError(`saved objects import: ${result.successCount ?? 0} of ${objects.length} imported; ${errors.join('; ')}`);
  }
  options.print(`saved objects: ${result.successCount ?? objects.length} imported with overwrite (${countBy(objects.map((o) => o.type))})`);

  for (const rule of rules) {
    const path = `/api/alerting/rule/${rule.id}`;
    const existing = await api.call('GET', path);
    if (existing.status === 404) {
      const created = await api.call('POST', path, JSON.stringify(rule.body), 'application/json');
      if (created.status >= 400) fail(`rule ${rule.name}`, created);
      options.print(`rule ${rule.name} (${rule.id}): created`);
    } else if (existing.status === 200) {
      const updated = await api.call('PUT', path, JSON.stringify(updateBody(rule.body)), 'application/json');
      if (updated.status >= 400) fail(`rule ${rule.name}`, updated);
      options.print(`rule ${rule.name} (${rule.id}): updated`);
    } else {
      fail(`rule ${rule.name}`, existing);
    }
  }
}

function countBy(values: string[]): string {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].map(([k, n]) => `${n} ${k}`).join(', ');
}
