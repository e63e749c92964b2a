/**
 * `provmon graph --narrate` against a tiny HTTP server this test runs, speaking the Ollama (/api/chat) and
 * OpenAI (/v1/chat/completions) wire formats. This tests provmon's client and what it sends (no model runs
 * here): the request's shape, that secrets in arguments are masked, and every failure path falling back to the
 * engine's deterministic summary.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { maskSecrets } from '../../../kibana-plugin/common/graph/narrative.ts';
import { AuditLogReader } from '../audit/reader.ts';
import { hex } from '../audit/testdata/samples.ts';
import { LocalSink } from '../output/local/local-sink.ts';

const root = resolve(import.meta.dir, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'provmon-narrate-'));
const T = '1764900000';
const secretArgs = ['curl', '-s', 'http://bob:s3cretpw@203.0.113.9/x', '--password', 'hunter2'];
const lines = [
  `type=SYSCALL msg=audit(${T}.100:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=10 pid=11 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="curl" exe="/usr/bin/curl" key="x"`,
  `type=EXECVE msg=audit(${T}.100:1): argc=5 ${secretArgs.map((a, i) => `a${i}=${/[:@/]/.test(a) ? hex(a) : `"${a}"`}`).join(' ')}`,
  `type=SYSCALL msg=audit(${T}.200:2): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=2 a2=10 a3=0 items=0 ppid=10 pid=11 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="curl" exe="/usr/bin/curl" key="x"`,
  `type=SOCKADDR msg=audit(${T}.200:2): saddr=02000050CB0071090000000000000000`,
];

interface Seen {
  path: string;
  body: { model: string; messages: { role: string; content: string }[]; stream?: boolean };
  auth: string | null;
}
const seen: Seen[] = [];
let mode: 'ok' | 'error' | 'hang' | 'garbage' = 'ok';
let server: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  const sink = new LocalSink({ dir });
  const reader = new AuditLogReader({ host: { id: 'c'.repeat(32), name: 'n', bootTimeMs: 0 }, namespace: 'default', onDocument: (d) => sink.write(d) });
  await reader.read({ name: 'log', chunks: [new TextEncoder().encode(lines.join('\n') + '\n')] });
  reader.finish();
  await sink.close();
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ path: url.pathname, body: (await req.json()) as Seen['body'], auth: req.headers.get('authorization') });
      if (mode === 'error') return new Response('model not loaded', { status: 500 });
      if (mode === 'hang') await Bun.sleep(3000);
      if (mode === 'garbage') return new Response('<html>', { status: 200 });
      const text = 'curl connected to 203.0.113.9:80.';
      return Response.json(url.pathname === '/api/chat' ? { model: 'tiny', message: { role: 'assistant', content: text }, done: true } : { choices: [{ index: 0, message: { role: 'assistant', content: text } }] });
    },
  });
});

afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** Async: the server answering runs on this test's event loop. */
async function graphNarrate(...set: string[]): Promise<{ out: string; err: string; code: number }> {
  const args = ['graph', '--events-dir', dir, '--poi', 'ip:203.0.113.9', '--narrate', '--log-level', 'warn', ...set.flatMap((s) => ['--set', s])];
  const p = Bun.spawn([join(root, 'bin', 'provmon'), ...args], { cwd: root, env: { ...process.env, PROVMON_NARRATIVE__API_KEY: 'sk-test-key' }, stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe('graph --narrate (client test against a local wire-format server, no model)', () => {
  test('Ollama: the reduced graph goes to /api/chat with secrets masked; the answer is printed after the summary', async () => {
    mode = 'ok';
    seen.length = 0;
    const r = await graphNarrate(`narrative.url=http://127.0.0.1:${server.port}`, 'narrative.model=tiny', 'narrative.api=ollama');
    expect(r.code).toBe(0);
    expect(r.out).toStartWith('Summary (deterministic, from the graph):\n  2025-12-05T02:00:00.100Z  curl[11] executed /usr/bin/curl\n');
    expect(r.out).toContain('  2025-12-05T02:00:00.200Z  curl[11] connected to 203.0.113.9:80\n');
    expect(r.out).toContain('Narrative (model tiny; generated, check it against the summary):\n  curl connected to 203.0.113.9:80.');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/api/chat');
    expect(seen[0]!.body.model).toBe('tiny');
    expect(seen[0]!.body.stream).toBe(false);
    const sent = seen[0]!.body.messages.map((m) => m.content).join('\n');
    expect(sent).toContain('/usr/bin/curl');
    expect(sent).toContain('203.0.113.9');
    expect(sent).not.toContain('hunter2');
    expect(sent).not.toContain('s3cretpw');
    expect(r.err).not.toContain('sk-test-key');
  }, 20000);

  test('OpenAI-compatible: /v1/chat/completions with the bearer token', async () => {
    mode = 'ok';
    seen.length = 0;
    const r = await graphNarrate(`narrative.url=http://127.0.0.1:${server.port}/v1`, 'narrative.model=tiny', 'narrative.api=openai');
    expect(r.code).toBe(0);
    expect(r.out).toContain('  curl connected to 203.0.113.9:80.');
    expect(seen[0]!.path).toBe('/v1/chat/completions');
    expect(seen[0]!.auth).toBe('Bearer sk-test-key');
  }, 20000);

  test('no endpoint, an HTTP error, a timeout, a non-JSON answer: the summary is the answer and says why', async () => {
    const none = await graphNarrate();
    expect(none.code).toBe(0);
    expect(none.out).toContain('Narrative: none (no narrative endpoint configured (narrative.url))');
    mode = 'error';
    const failed = await graphNarrate(`narrative.url=http://127.0.0.1:${server.port}`, 'narrative.model=tiny');
    expect(failed.code).toBe(0);
    expect(failed.out).toMatch(/Summary \(deterministic[\s\S]*curl[\s\S]*Narrative: none \(http:\/\/127\.0\.0\.1:\d+\/api\/chat answered HTTP 500: model not loaded\)/);
    mode = 'hang';
    const slow = await graphNarrate(`narrative.url=http://127.0.0.1:${server.port}`, 'narrative.model=tiny', 'narrative.timeout_s=1');
    expect(slow.out).toContain('timed out after 1 s');
    mode = 'garbage';
    expect((await graphNarrate(`narrative.url=http://127.0.0.1:${server.port}`, 'narrative.model=tiny')).out).toContain('did not answer JSON');
    const refused = await graphNarrate('narrative.url=http://127.0.0.1:9', 'narrative.model=tiny');
    expect(refused.code).toBe(0);
    expect(refused.out).toMatch(/Narrative: none \(http:\/\/127\.0\.0\.1:9\/api\/chat: .+\)/);
  }, 30000);

  test('maskSecrets: flag values, inline key=value, URL userinfo, bearer tokens and long opaque strings', () => {
    expect(maskSecrets(['mysql', '-u', 'root', '-pS3cret', '--password', 'x', '--token=abc', 'https://u:p@h/q?api_key=zzz&a=1', 'Authorization: Bearer abc.def', 'A'.repeat(40), '/etc/passwd'])).toEqual([
      'mysql',
      '-u',
      'root',
      '-p***',
      '--password',
      '***',
      '--token=***',
      'https://***@h/q?api_key=***&a=1',
      'Authorization: Bearer ***',
      '***',
      '/etc/passwd',
    ]);
    // inside one argument, as `sh -c` carries a whole command line
    expect(maskSecrets(["tool --password hunter2 --token abc -pS3cret --key=k1 --verbose -x 'a b'"])).toEqual(["tool --password *** --token *** -p*** --key=*** --verbose -x 'a b'"]);
  });
});
