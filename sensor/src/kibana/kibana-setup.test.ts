/**
 * `provmon setup --kibana` against a local HTTP server this test starts only to record requests (Kibana cannot run
 * here; its APIs themselves are not exercised): every request body is checked against the documented API schemas
 * (create/update rule, the `.es-query` params, the saved-objects import's multipart `file`), the paths carry the
 * space, the headers carry kbn-xsrf and the credentials, a second run updates rather than creates, and an
 * unreachable or refusing Kibana is a clear error.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { setupKibana } from './kibana-setup.ts';
import { createRuleSchema, updateRuleSchema, UUID_V4 } from './rule-schema.ts';
import { loadRules } from './rules.ts';
import { loadSavedObjects, type SavedObject } from './saved-objects.ts';

const ROOT = resolve(import.meta.dir, '../../..');

interface Recorded {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  contentType: string;
  body: unknown;
  fileName?: string;
  fileText?: string;
}

const rules = loadRules();
const objects = loadSavedObjects().flatMap((f) => f.objects);
let server: ReturnType<typeof Bun.serve>;
let recorded: Recorded[] = [];
const existingRules = new Set<string>();
let refuse = false;

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      const rec: Recorded = { method: req.method, path: u.pathname, query: u.search, headers: Object.fromEntries(req.headers), contentType: req.headers.get('content-type') ?? '', body: undefined };
      if (rec.contentType.startsWith('multipart/form-data')) {
        const form = await req.formData();
        const file = form.get('file') as File;
        rec.fileName = file.name;
        rec.fileText = await file.text();
      } else if (req.method !== 'GET') rec.body = await req.json();
      recorded.push(rec);
      if (refuse) return Response.json({ statusCode: 401, error: 'Unauthorized', message: 'unable to authenticate' }, { status: 401 });
      const path = u.pathname.replace(/^\/s\/[^/]+/, '');
      if (path === '/api/status') return Response.json({ version: { number: '8.19.26' } });
      if (path === '/api/saved_objects/_import') return Response.json({ success: true, successCount: rec.fileText!.trim().split('\n').length });
      const id = /^\/api\/alerting\/rule\/(.+)$/.exec(path)?.[1];
      if (id && req.method === 'GET') return existingRules.has(id) ? Response.json({ id }) : Response.json({ statusCode: 404, message: 'not found' }, { status: 404 });
      if (id && req.method === 'POST') return (existingRules.add(id), Response.json({ id }));
      if (id && req.method === 'PUT') return Response.json({ id });
      return Response.json({ message: 'unexpected' }, { status: 500 });
    },
  });
});

afterAll(() => {
  server?.stop(true);
});

const url = () => `http://127.0.0.1:${server.port}`;

describe('provmon setup --kibana', () => {
  test('first run: import with overwrite, then every rule created with a documented create body, in the space', async () => {
    recorded = [];
    const lines: string[] = [];
    await setupKibana({ url: url(), space: 'secops', username: 'elastic', password: 's3cret' }, { print: (l) => lines.push(l) });
    expect(recorded.every((r) => r.path.startsWith('/s/secops/api/'))).toBe(true);
    expect(recorded.every((r) => r.headers['kbn-xsrf'] === 'provmon')).toBe(true);
    expect(recorded[0]!.headers.authorization).toBe(`Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
    const imp = recorded.find((r) => r.path.endsWith('/_import'))!;
    expect(imp.method).toBe('POST');
    expect(imp.query).toBe('?overwrite=true');
    expect(imp.fileName).toMatch(/\.ndjson$/);
    const sent = imp.fileText!.trim().split('\n').map((l) => JSON.parse(l) as SavedObject);
    expect(sent).toEqual(objects);
    const creates = recorded.filter((r) => r.method === 'POST' && r.path.includes('/api/alerting/rule/'));
    expect(creates).toHaveLength(rules.length);
    for (const c of creates) {
      const id = c.path.split('/').pop()!;
      expect(id).toMatch(UUID_V4);
      expect(createRuleSchema.safeParse(c.body).success).toBe(true);
      expect(c.contentType).toBe('application/json');
    }
    expect(lines[0]).toBe(`Kibana 8.19.26 at ${url()} (space secops)`);
    expect(lines[1]).toMatch(/^saved objects: 21 imported with overwrite \(3 dashboard, 6 index-pattern, 1 search, 11 visualization\)$/);
    expect(lines.filter((l) => l.endsWith(': created'))).toHaveLength(rules.length);
    expect(lines.join('\n')).not.toContain('s3cret');
  });

  test('second run: the same rule ids are updated (PUT with the documented update body), nothing duplicated', async () => {
    recorded = [];
    const lines: string[] = [];
    await setupKibana({ url: url(), apiKey: 'aWQ6a2V5' }, { print: (l) => lines.push(l) });
    expect(recorded[0]!.path).toBe('/api/status');
    expect(recorded[0]!.headers.authorization).toBe('ApiKey aWQ6a2V5');
    const puts = recorded.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(rules.length);
    expect(recorded.filter((r) => r.method === 'POST' && r.path.includes('/rule/'))).toHaveLength(0);
    for (const p of puts) {
      const parsed = updateRuleSchema.safeParse(p.body);
      expect(parsed.success).toBe(true);
    }
    expect(lines.filter((l) => l.endsWith(': updated'))).toHaveLength(rules.length);
  });

  test('the schemas refuse what Kibana refuses: an update with rule_type_id, a create with an unknown key, bad params', () => {
    const body = rules[0]!.body;
    expect(updateRuleSchema.safeParse(body).success).toBe(false);
    expect(createRuleSchema.safeParse({ ...body, description: 'x' }).success).toBe(false);
    expect(createRuleSchema.safeParse({ ...body, params: { ...body.params, esQuery: '{"match_all":{}}' } }).success).toBe(false);
    expect(createRuleSchema.safeParse({ ...body, params: { ...body.params, groupBy: 'top' } }).success).toBe(false);
  });

  test('no Kibana listening: a clear error naming the URL', async () => {
    const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const port = closed.port;
    closed.stop(true);
    const error = await setupKibana({ url: `http://127.0.0.1:${port}` }, { print: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvmonError);
    expect((error as Error).message).toContain(`Kibana at http://127.0.0.1:${port} is not reachable`);
  });

  test('refused credentials: a clear error, and bad flags are refused before any request', async () => {
    refuse = true;
    try {
      const error = await setupKibana({ url: url(), username: 'elastic', password: 'wrong' }, { print: () => {} }).catch((e: unknown) => e);
      expect((error as Error).message).toContain('refused the credentials (HTTP 401)');
    } finally {
      refuse = false;
    }
    await expect(setupKibana({ url: 'kibana:5601' }, { print: () => {} })).rejects.toThrow('must be an http or https URL');
    await expect(setupKibana({ url: url(), space: 'Sec Ops' }, { print: () => {} })).rejects.toThrow('a space id has');
  });

  test('the CLI: provmon setup --kibana prints what it did; without a reachable Kibana it exits non-zero with the reason', async () => {
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '', PROVMON_KIBANA_API_KEY: 'aWQ6a2V5' };
    // asynchronous: the recording server answers from this process's event loop
    const run = async (target: string) => {
      const p = Bun.spawn([resolve(ROOT, 'bin/provmon'), 'setup', '--kibana', target], { env, stdout: 'pipe', stderr: 'pipe' });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { stdout, stderr, code };
    };
    const ok = await run(url());
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('saved objects: 21 imported with overwrite');
    expect(ok.stdout).toContain(': updated');
    const bad = await run('http://127.0.0.1:9');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Kibana at http://127.0.0.1:9 is not reachable');
  }, 60_000);
});
