/**
 * Needs Elasticsearch: starts real nodes (the integ-test-zip, see scripts/es-node/node.ts), so it
 * needs Maven (or the zip already in ~/.m2), unzip and a JDK 17. No mocks.
 */
import { errors, type Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvmonError } from '../../sensor/src/errors.ts';
import { testClient, testNode, type EsNode } from '../../test/support/es.ts';
import {
  CACHE_DIR,
  distributionCacheDir,
  nodesBaseDir,
  searchableByOthers,
  SYSTEM_CACHE_DIR,
  ensureDistribution,
  ES_VERSION,
  ES_ZIP_SHA256,
  findJdk,
  EXTRACTED_MARKER,
  isAlive,
  readState,
  REPO_ROOT,
  startNode,
  statePath,
  stopNodeByState,
  verifyZip,
} from './node.ts';

// Bun 1.4.5 ignores `timeout` in bunfig.toml (the default stays 5 s) and a preload's
// setDefaultTimeout only reaches the first test file, so each file that starts nodes sets its own.
setDefaultTimeout(180_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;

/** Composable template with data_stream: {} and the core field types the sensor's documents use. */
async function roundTrip(client: Client): Promise<void> {
  const ds = `logs-provmontest.esnode-${RUN}`;
  await client.indices.putIndexTemplate({
    name: `provmontest-esnode-${RUN}`,
    index_patterns: [`logs-provmontest.esnode-${RUN}*`],
    data_stream: {},
    priority: 500,
    template: {
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: 'strict',
        properties: {
          '@timestamp': { type: 'date' },
          message: { type: 'text' },
          event: { properties: { kind: { type: 'keyword' }, duration: { type: 'long' }, risk_score: { type: 'float' } } },
          process: {
            properties: {
              pid: { type: 'long' },
              name: { type: 'keyword' },
              command_line: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 1024 } } },
              exit_code: { type: 'integer' },
            },
          },
          source: { properties: { ip: { type: 'ip' }, port: { type: 'integer' }, bytes: { type: 'long' } } },
          file: { properties: { size: { type: 'double' } } },
          provmon: { properties: { sampled: { type: 'boolean' } } },
        },
      },
    },
  });

  const doc = {
    '@timestamp': '2026-01-02T03:04:05.678Z',
    message: 'curl fetched a payload',
    event: { kind: 'event', duration: 1234567, risk_score: 21.5 },
    process: { pid: 4242, name: 'curl', command_line: 'curl -s http://example.invalid/x.sh', exit_code: 0 },
    source: { ip: '10.1.2.3', port: 44321, bytes: 9000000000 },
    file: { size: 12.5 },
    provmon: { sampled: true },
  };
  const bulk = await client.bulk({ operations: [{ create: { _index: ds } }, doc], refresh: 'wait_for' });
  expect(bulk.errors).toBe(false);
  const item = bulk.items[0]?.create;
  expect(item?.status).toBe(201);
  expect(item?._index).toStartWith(`.ds-${ds}-`); // a backing index: the data stream was auto-created

  const resolved = await client.indices.resolveIndex({ name: ds });
  expect(resolved.data_streams.map((d) => d.name)).toEqual([ds]);

  const mapping = await client.indices.getMapping({ index: ds });
  const props = Object.values(mapping)[0]?.mappings.properties as Record<string, { type?: string; properties?: Record<string, { type?: string }> }>;
  expect(props.source?.properties?.ip?.type).toBe('ip');
  expect(props.provmon?.properties?.sampled?.type).toBe('boolean');

  // Queries that only work if the mapping took effect: CIDR on ip, term on keyword, match on text.
  const res = await client.search<typeof doc>({
    index: ds,
    query: {
      bool: {
        filter: [{ term: { 'source.ip': '10.0.0.0/8' } }, { term: { 'process.name': 'curl' } }, { range: { 'source.bytes': { gt: 2 ** 32 } } }],
        must: [{ match: { message: 'payload' } }],
      },
    },
  });
  expect(res.hits.hits).toHaveLength(1);
  expect(res.hits.hits[0]?._source).toEqual(doc);

  // A create into a data stream without @timestamp is rejected: the template really made a data stream.
  const bad = await client.bulk({ operations: [{ create: { _index: ds } }, { message: 'no timestamp' }] });
  expect(bad.errors).toBe(true);
}

describe('Elasticsearch test node, security off', () => {
  let node: EsNode;
  let client: Client;
  beforeAll(async () => {
    node = await testNode('open');
    client = testClient(node);
  });
  afterAll(async () => {
    await client?.close();
  });

  test('is healthy, single node, on loopback, security off', async () => {
    expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.security).toBe(false);
    expect(node.password).toBeUndefined();
    const health = await client.cluster.health();
    expect(['green', 'yellow']).toContain(health.status);
    expect(health.number_of_nodes).toBe(1);
    // Memoised: the same node for every caller in this process.
    expect(await testNode('open')).toBe(node);
  });

  test('template with data_stream, bulk create into a data stream, search it back', async () => {
    await roundTrip(client);
  });

  test('runs as an unprivileged user, with a 0600 state file', () => {
    if (node.pid === 0) return; // PROVMON_TEST_ES_URL: not ours to inspect
    const status = readFileSync(`/proc/${node.pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    expect(uid).not.toBe(0);
    if (process.getuid?.() !== 0) expect(uid).toBe(process.getuid?.() ?? -1);
    expect(statSync(node.stateFile).mode & 0o777).toBe(0o600);
    expect(statSync(node.dir).mode & 0o777).toBe(0o700);
    expect(statSync(node.dir).uid).toBe(uid);
    expect(readState(node.name)?.pid).toBe(node.pid);
  });
});

describe('Elasticsearch test node, security on', () => {
  let node: EsNode;
  let client: Client;
  beforeAll(async () => {
    node = await testNode('secure');
    client = testClient(node);
  });
  afterAll(async () => {
    await client?.close();
  });

  test('basic auth as elastic works', async () => {
    expect(node.security).toBe(true);
    expect(node.username).toBe('elastic');
    expect(node.password?.length).toBeGreaterThanOrEqual(20);
    const health = await client.cluster.health();
    expect(['green', 'yellow']).toContain(health.status);
    const me = await client.security.authenticate();
    expect(me.username).toBe('elastic');
  });

  test('a wrong password gets 401, and so does no password', async () => {
    for (const c of [testClient(node, { password: `${node.password}x` }), testClient(node, { anonymous: true })]) {
      let err: unknown;
      try {
        await c.cluster.health();
      } catch (e) {
        err = e;
      } finally {
        await c.close();
      }
      expect(err).toBeInstanceOf(errors.ResponseError);
      expect((err as errors.ResponseError).statusCode).toBe(401);
    }
  });

  test('template with data_stream, bulk create into a data stream, search it back', async () => {
    await roundTrip(client);
  });

  test('the password is in the 0600 state file for es:stop / other tools', () => {
    const state = JSON.parse(readFileSync(node.stateFile, 'utf8')) as { password?: string; username?: string };
    expect(state.password).toBe(node.password);
    expect(state.username).toBe('elastic');
    expect(statSync(node.stateFile).mode & 0o777).toBe(0o600);
  });
});

describe('bad environments are reported, not crashed on', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'provmon-es-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function startError(opts: Parameters<typeof startNode>[0]): Promise<ProvmonError> {
    try {
      const n = await startNode({ log: () => undefined, ...opts });
      await n.stop();
    } catch (e) {
      expect(e).toBeInstanceOf(ProvmonError);
      return e as ProvmonError;
    }
    throw new Error('startNode succeeded but should have failed');
  }

  test('ES_JAVA_HOME pointing at a missing directory names the JDK problem', async () => {
    const missing = join(scratch, 'no-such-jdk');
    const saved = process.env.ES_JAVA_HOME;
    process.env.ES_JAVA_HOME = missing;
    try {
      const name = `badjdk-${process.pid}`;
      const e = await startError({ name });
      expect(e.message).toContain('JDK');
      expect(e.message).toContain(missing);
      expect(e.hint).toContain('openjdk-17-jdk-headless');
      expect(existsSync(statePath(name))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.ES_JAVA_HOME;
      else process.env.ES_JAVA_HOME = saved;
    }
  });

  test('no JDK 17+ found, or one that is too old, says what was looked for and how to fix it', () => {
    const emptyJvm = join(scratch, 'jvm');
    mkdirSync(emptyJvm);
    expect(() => findJdk({}, emptyJvm)).toThrow(ProvmonError);
    try {
      findJdk({}, emptyJvm);
    } catch (e) {
      expect((e as ProvmonError).message).toContain(`${emptyJvm}/java-17-openjdk-`);
      expect((e as ProvmonError).message).toContain('ES_JAVA_HOME is not set');
      expect((e as ProvmonError).hint).toContain('apt-get install openjdk-17-jdk-headless');
    }
    // A "JDK" whose java says it is 11.
    const old = join(scratch, 'jdk-11');
    mkdirSync(join(old, 'bin'), { recursive: true });
    writeFileSync(join(old, 'bin', 'java'), '#!/bin/sh\necho \'openjdk version "11.0.22" 2024-01-16\' >&2\n', { mode: 0o755 });
    expect(() => findJdk({ ES_JAVA_HOME: old })).toThrow(`ES_JAVA_HOME=${old} is Java 11; Elasticsearch ${ES_VERSION} needs Java 17 or newer`);
    // The real one is found and is 17.
    expect(findJdk({}).major).toBeGreaterThanOrEqual(17);
  });

  test('no Maven when the zip must be fetched says to install it', async () => {
    const saved = { PATH: process.env.PATH, REPO: process.env.PROVMON_MAVEN_REPO_LOCAL };
    const emptyRepo = join(scratch, 'm2-empty');
    const bin = join(scratch, 'bin-without-mvn');
    mkdirSync(emptyRepo);
    mkdirSync(bin);
    process.env.PATH = bin;
    process.env.PROVMON_MAVEN_REPO_LOCAL = emptyRepo;
    try {
      let err: unknown;
      try {
        await ensureDistribution({ cacheDir: join(scratch, 'cache-no-mvn'), log: () => undefined });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProvmonError);
      expect((err as ProvmonError).message).toContain('Maven (mvn) is not installed');
      expect((err as ProvmonError).hint).toBe('apt-get install maven');
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.REPO === undefined) delete process.env.PROVMON_MAVEN_REPO_LOCAL;
      else process.env.PROVMON_MAVEN_REPO_LOCAL = saved.REPO;
    }
  });

  test('a requested port that is already bound is named', async () => {
    const server: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as { port: number }).port)),
    );
    try {
      const e = await startError({ name: `badport-${process.pid}`, port });
      expect(e.message).toBe(`port ${port} on 127.0.0.1 is in use by another process`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('a truncated or damaged zip is reported corrupt, deleted and fetched again', async () => {
    await ensureDistribution({ log: () => undefined });
    const good = join(CACHE_DIR, `elasticsearch-${ES_VERSION}.zip`);
    expect(existsSync(good)).toBe(true);
    expect(await verifyZip(good, { sha256: ES_ZIP_SHA256 })).toEqual({ ok: true });
    const wrongHash = await verifyZip(good, { sha256: '0'.repeat(64) });
    expect(wrongHash.ok).toBe(false);
    if (!wrongHash.ok) expect(wrongHash.reason).toContain(`its SHA-256 is ${ES_ZIP_SHA256}`);

    // Half a download: no end-of-central-directory record.
    const cache = join(scratch, 'cache');
    mkdirSync(cache);
    const truncated = join(cache, `elasticsearch-${ES_VERSION}.zip`);
    const size = statSync(good).size;
    const buf = Buffer.alloc(Math.floor(size / 2));
    const fd = openSync(good, 'r');
    try {
      readSync(fd, buf, 0, buf.length, 0);
    } finally {
      closeSync(fd);
    }
    writeFileSync(truncated, buf);
    const t = await verifyZip(truncated);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.reason).toContain('truncated');

    // Intact directory, damaged data: only the CRC check (unzip -t) can see it.
    const damaged = join(scratch, 'damaged.zip');
    copyFileSync(good, damaged);
    const dfd = openSync(damaged, 'r+');
    try {
      writeSync(dfd, Buffer.alloc(4096, 0x55), 0, 4096, Math.floor(size / 3));
    } finally {
      closeSync(dfd);
    }
    expect((await verifyZip(damaged)).ok).toBe(false);

    // The whole path: a corrupt cached zip and a half-extracted tree are both redone.
    const half = join(cache, `elasticsearch-${ES_VERSION}`);
    mkdirSync(join(half, 'bin'), { recursive: true });
    writeFileSync(join(half, 'bin', 'elasticsearch'), 'partial');
    const lines: string[] = [];
    const home = await ensureDistribution({ cacheDir: cache, log: (l) => lines.push(l) });
    expect(home).toBe(half);
    expect(lines.join('\n')).toMatch(new RegExp(`cached zip ${truncated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt \\(.+\\); deleting and fetching again`));
    expect(lines.join('\n')).toContain('extracting again');
    expect(existsSync(join(home, EXTRACTED_MARKER))).toBe(true);
    expect(readFileSync(join(home, 'bin', 'elasticsearch'), 'utf8')).not.toBe('partial');
    expect(statSync(truncated).size).toBe(size);

    // Idempotent and fast once done.
    const t0 = performance.now();
    expect(await ensureDistribution({ cacheDir: cache, log: () => undefined })).toBe(home);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('es:start / es:stop CLI', () => {
  const name = `cli-${RUN}`;
  const cli = join(REPO_ROOT, 'scripts', 'es-node', 'cli.ts');
  afterAll(async () => {
    const s = readState(name);
    if (s) await stopNodeByState(s, { log: () => undefined });
  });

  test('start --security runs a detached node and prints its URL last; stop stops it', async () => {
    const start = spawnSync(process.execPath, ['run', cli, 'start', '--security', '--name', name], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(start.status).toBe(0);
    const stdoutLines = start.stdout.trim().split('\n');
    const url = stdoutLines[stdoutLines.length - 1] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const state = readState(name);
    expect(state?.url).toBe(url);
    expect(state?.password).toBeString();
    expect(start.stderr).toContain(`.cache/es/nodes/${name}.json`);
    expect(start.stderr).not.toContain(state?.password ?? '<none>');
    expect(start.stdout).not.toContain(state?.password ?? '<none>');
    // The CLI has exited; the node lives on.
    expect(isAlive(state?.pid ?? 0)).toBe(true);
    const auth = `Basic ${Buffer.from(`elastic:${state?.password}`).toString('base64')}`;
    expect((await fetch(`${url}/_cluster/health`, { headers: { authorization: auth } })).status).toBe(200);
    expect((await fetch(`${url}/_cluster/health`)).status).toBe(401);

    const status = spawnSync(process.execPath, ['run', cli, 'status'], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(status.stdout).toContain(`${name}\t${url}\tsecurity on`);
    expect(status.stdout).not.toContain(state?.password ?? '<none>');

    const stop = spawnSync(process.execPath, ['run', cli, 'stop', '--name', name], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(stop.status).toBe(0);
    expect(stop.stderr).toContain(`stopped node "${name}"`);
    expect(isAlive(state?.pid ?? 0)).toBe(false);
    expect(readState(name)).toBeNull();
    expect(existsSync(state?.dir ?? '/nonexistent')).toBe(false);
  });
});

describe('a clone in a private directory (issue 9, newcomer path)', () => {
  // The fault: as root, the node runs as provmon-es, which could not reach a distribution kept inside a
  // clone under /root or a mode-700 temp dir. The scripts are copied into such a directory (with the
  // clone's node_modules linked in) and run from there, exactly as a private clone would run them.
  const asRoot = process.getuid?.() === 0;
  test.skipIf(!asRoot)('as root, a node starts from a mode-700 clone, as provmon-es, without loosening the clone', () => {
    const priv = mkdtempSync(join(tmpdir(), 'provmon-private-clone-'));
    const name = `private-${RUN}`;
    const cli = join(priv, 'scripts', 'es-node', 'cli.ts');
    try {
      expect(statSync(priv).mode & 0o777).toBe(0o700);
      mkdirSync(join(priv, 'scripts', 'es-node'), { recursive: true });
      mkdirSync(join(priv, 'sensor', 'src'), { recursive: true });
      for (const f of ['node.ts', 'cli.ts']) copyFileSync(join(REPO_ROOT, 'scripts', 'es-node', f), join(priv, 'scripts', 'es-node', f));
      copyFileSync(join(REPO_ROOT, 'sensor', 'src', 'errors.ts'), join(priv, 'sensor', 'src', 'errors.ts'));
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(priv, 'node_modules'));
      const env = { ...process.env };
      delete env.PROVMON_ES_CACHE_DIR;
      const start = spawnSync(process.execPath, ['run', cli, 'start', '--name', name], { encoding: 'utf8', cwd: priv, env });
      expect(start.stderr).not.toContain('cannot read');
      expect(start.status).toBe(0);
      const url = start.stdout.trim().split('\n').pop() ?? '';
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Nothing was opened up: the clone is still private, and the state file stayed inside it.
      expect(statSync(priv).mode & 0o777).toBe(0o700);
      const state = JSON.parse(readFileSync(join(priv, '.cache', 'es', 'nodes', `${name}.json`), 'utf8')) as { pid: number; dir: string };
      expect(readFileSync(`/proc/${state.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${spawnSync('id', ['-u', 'provmon-es'], { encoding: 'utf8' }).stdout.trim()}\\s`, 'm'));
      expect(state.dir.startsWith(priv)).toBe(false);
      const stop = spawnSync(process.execPath, ['run', cli, 'stop', '--name', name], { encoding: 'utf8', cwd: priv, env });
      expect(stop.status).toBe(0);
      expect(isAlive(state.pid)).toBe(false);
    } finally {
      spawnSync(process.execPath, ['run', cli, 'stop', '--name', name], { cwd: priv });
      rmSync(priv, { recursive: true, force: true });
    }
  });

  test('a TMPDIR the node user cannot search is not used for node directories', () => {
    const priv = mkdtempSync(join(tmpdir(), 'provmon-private-tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = priv;
    try {
      expect(searchableByOthers(priv)).toBe(false);
      expect(nodesBaseDir({ switchUser: true })).toBe('/tmp/provmon-es');
      expect(nodesBaseDir({ switchUser: false })).toBe(join(priv, 'provmon-es'));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(priv, { recursive: true, force: true });
    }
  });

  test('the distribution cache is outside the clone as root, inside it otherwise, and PROVMON_ES_CACHE_DIR wins', () => {
    expect(distributionCacheDir({}, 0)).toBe(SYSTEM_CACHE_DIR);
    expect(distributionCacheDir({}, 1000)).toBe(join(REPO_ROOT, '.cache', 'es'));
    expect(distributionCacheDir({ PROVMON_ES_CACHE_DIR: '/srv/es' }, 0)).toBe('/srv/es');
  });
});
