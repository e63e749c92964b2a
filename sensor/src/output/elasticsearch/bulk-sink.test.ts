/**
 * The output's delivery logic against an in-process stand-in for _bulk that keeps `create` semantics (a second
 * create of an _id is a 409) and can refuse connections, throttle, time out or reject credentials on demand.
 * The real-cluster behaviour is in the *.es.test.ts files.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { ElasticsearchBulkSink, type BulkSinkOptions } from './bulk-sink.ts';
import { BulkRequestError, type BulkItemResult } from './classify.ts';
import { realisticDocs } from './testdata/ecs-docs.ts';
import { removeTempDirs, tempDir } from './testdata/es-helpers.ts';
import type { BulkTransport } from './transport.ts';

type Behaviour = 'up' | 'down' | 'auth' | 'throttle-request' | 'too-large';

class FakeCluster implements BulkTransport {
  readonly stored = new Map<string, string>();
  /** ids in the order they were created */
  readonly createdOrder: string[] = [];
  creates = 0;
  requests: { at: number; docs: number; ids: string[] }[] = [];
  behaviour: Behaviour = 'up';
  /** per-item outcome override: return a status to refuse the item with it */
  itemRule: ((id: string, attempt: number) => BulkItemResult | undefined) | undefined;
  /** resolves requests only when released (to hold them in flight) */
  gate: Promise<void> | undefined;
  maxDocsPerRequest = Infinity;
  private attempts = new Map<string, number>();
  closed = false;

  async bulk(body: string, docs: number, signal?: AbortSignal): Promise<BulkItemResult[]> {
    const lines = body.split('\n');
    const ops: { id: string; index: string; source: string }[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i]) break;
      const action = JSON.parse(lines[i]!) as { create: { _index: string; _id: string } };
      ops.push({ id: action.create._id, index: action.create._index, source: lines[i + 1]! });
    }
    expect(ops.length).toBe(docs);
    this.requests.push({ at: Date.now(), docs, ids: ops.map((o) => o.id) });
    if (this.gate) {
      await Promise.race([
        this.gate,
        new Promise<void>((_, reject) => signal?.addEventListener('abort', () => reject(new BulkRequestError('Request aborted', 'aborted')))),
      ]);
    }
    if (this.behaviour === 'down') throw new BulkRequestError('connect ECONNREFUSED 127.0.0.1:9', 'connection');
    if (this.behaviour === 'auth') throw new BulkRequestError('unable to authenticate with provided credentials and anonymous access is not allowed', 'http', 401, 'security_exception');
    if (this.behaviour === 'throttle-request') throw new BulkRequestError('rejected execution of coordinating operation', 'http', 429, 'es_rejected_execution_exception');
    if (this.behaviour === 'too-large' && docs > this.maxDocsPerRequest) throw new BulkRequestError('Request Entity Too Large', 'http', 413);
    return ops.map((op) => {
      const attempt = (this.attempts.get(op.id) ?? 0) + 1;
      this.attempts.set(op.id, attempt);
      const refused = this.itemRule?.(op.id, attempt);
      if (refused) return refused;
      if (this.stored.has(op.id)) return { status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${op.id}]: version conflict, document already exists` } };
      this.stored.set(op.id, op.source);
      this.createdOrder.push(op.id);
      this.creates += 1;
      return { status: 201 };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const newDir = () => tempDir('sink');
afterAll(removeTempDirs);

function makeSink(cluster: BulkTransport, dir: string, over: Partial<BulkSinkOptions> = {}): ElasticsearchBulkSink {
  return new ElasticsearchBulkSink({
    transport: cluster,
    target: 'http://fake:9200 (no auth)',
    spoolDir: join(dir, 'es-spool'),
    rejectedFile: join(dir, 'es-rejected.ndjson'),
    namespace: 'default',
    batchMaxDocs: 100,
    batchMaxBytes: 5_000_000,
    batchMaxLatencyMs: 20,
    concurrency: 2,
    retry: { initialMs: 2, maxMs: 20, maxAttempts: 3 },
    queueMaxBytes: 64 * 1024 * 1024,
    spoolMaxBytes: 64 * 1024 * 1024,
    spoolWhenFull: 'drop_oldest',
    spoolFsync: false,
    closeTimeoutMs: 500,
    ...over,
  });
}

const docs = (n: number, run: string): EcsEvent[] => realisticDocs(n, { run });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Elasticsearch bulk output (delivery logic)', () => {
  test('creates every document once with _id = event.id into logs-provmon.<dataset>-<namespace>', async () => {
    const cluster = new FakeCluster();
    const seen: string[] = [];
    const sink = makeSink(
      {
        bulk: (body, n, signal) => {
          seen.push(...[...body.matchAll(/"_index":"([^"]+)"/g)].map((m) => m[1]!));
          return cluster.bulk(body, n, signal);
        },
        close: () => cluster.close(),
      },
      newDir(),
    );
    const input = docs(1000, 'a');
    for (const d of input) sink.write(d);
    await sink.flush();
    expect(cluster.creates).toBe(1000);
    expect([...cluster.stored.keys()].sort()).toEqual(input.map((d) => d.event.id).sort());
    expect(new Set(seen)).toEqual(new Set(['logs-provmon.process-default', 'logs-provmon.file-default', 'logs-provmon.network-default', 'logs-provmon.flow-default', 'logs-provmon.dns-default']));
    expect(JSON.parse(cluster.stored.get('a-7')!)).toEqual(JSON.parse(JSON.stringify(input[7])));
    const s = sink.stats();
    expect(s.indexed).toBe(1000);
    expect(s.written).toBe(1000);
    expect(cluster.requests.every((r) => r.docs <= 100)).toBe(true);
    await sink.close();
    expect(cluster.closed).toBe(true);
  });

  test('a 409 on create means already delivered: counted as a duplicate, never re-sent, never an error', async () => {
    const cluster = new FakeCluster();
    const sink = makeSink(cluster, newDir());
    const input = docs(50, 'dup');
    for (const d of input) sink.write(d);
    await sink.flush();
    for (const d of input.slice(0, 20)) sink.write(d); // a replay after a crash
    await sink.flush();
    const s = sink.stats();
    expect(s.indexed).toBe(50);
    expect(s.duplicates).toBe(20);
    expect(s.rejected).toBe(0);
    expect(s.spool_docs).toBe(0);
    await sink.close();
  });

  test('per-item 429s are retried with growing, jittered delays until they are taken', async () => {
    const cluster = new FakeCluster();
    cluster.itemRule = (id, attempt) => (Number(id.split('-')[1]) % 3 === 0 && attempt <= 2 ? { status: 429, error: { type: 'es_rejected_execution_exception' } } : undefined);
    const sink = makeSink(cluster, newDir(), { retry: { initialMs: 20, maxMs: 1000, maxAttempts: 5 }, concurrency: 1, batchMaxDocs: 1000 });
    for (const d of docs(300, 'thr')) sink.write(d);
    await sink.flush();
    const s = sink.stats();
    expect(cluster.creates).toBe(300);
    expect(s.throttled_docs).toBe(200);
    expect(s.retries).toBe(2);
    expect(s.retried_docs).toBe(200);
    expect(s.spool_docs).toBe(0);
    // attempt 0 waits 10-20 ms, attempt 1 waits 20-40 ms
    const gaps = cluster.requests.slice(1).map((r, i) => r.at - cluster.requests[i]!.at);
    expect(gaps[0]!).toBeGreaterThanOrEqual(9);
    expect(gaps[1]!).toBeGreaterThanOrEqual(19);
    expect(cluster.requests.map((r) => r.docs)).toEqual([300, 100, 100]);
    await sink.close();
  });

  test('mapping errors go to the dead-letter file with the reason; nothing else is lost', async () => {
    const dir = newDir();
    const cluster = new FakeCluster();
    cluster.itemRule = (id) => (id === 'bad-5' ? { status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse field [source.port]' } } : undefined);
    const sink = makeSink(cluster, dir);
    for (const d of docs(10, 'bad')) sink.write(d);
    await sink.flush();
    expect(sink.stats().rejected).toBe(1);
    expect(cluster.creates).toBe(9);
    const lines = readFileSync(join(dir, 'es-rejected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].status).toBe(400);
    expect(lines[0].error.type).toBe('document_parsing_exception');
    expect(lines[0].action.create._id).toBe('bad-5');
    expect(lines[0].doc.event.id).toBe('bad-5');
    await sink.close();
  });

  test('outage: connection errors are retried, then batches go to the spool and are replayed in order, exactly once', async () => {
    const dir = newDir();
    const cluster = new FakeCluster();
    // jitter pinned to the top of each backoff window: with the usual random jitter, ten 10-20 ms waits can fit in
    // the 100 ms looked at below, so the "no hammering" bound would fail now and then on a correct sink
    const sink = makeSink(cluster, dir, { concurrency: 1, batchMaxDocs: 50, random: () => 1 });
    const input = docs(1000, 'out');
    for (const d of input.slice(0, 200)) sink.write(d);
    await sink.flush();
    cluster.behaviour = 'down';
    for (const d of input.slice(200, 700)) sink.write(d);
    await sink.flush();
    let s = sink.stats();
    expect(s.outage).toBe(1);
    expect(s.spool_docs).toBe(500);
    expect(s.retries).toBeGreaterThanOrEqual(3);
    expect(sink.lastError).toContain('cannot reach Elasticsearch');
    const before = cluster.requests.length;
    await sleep(100);
    // replay backs off instead of hammering: waits of 2, 4, 8, 16, then 20 ms allow at most 8 requests in 100 ms
    expect(cluster.requests.length - before).toBeLessThan(10);
    cluster.behaviour = 'up';
    for (const d of input.slice(700)) sink.write(d);
    expect(await sink.drain(10_000)).toBe(true);
    s = sink.stats();
    expect(s.outage).toBe(0);
    expect(cluster.creates).toBe(1000);
    expect([...cluster.stored.keys()].sort()).toEqual(input.map((d) => d.event.id).sort());
    // spooled and new batches were delivered in the order they were written
    const position = new Map(cluster.createdOrder.map((id, i) => [id, i]));
    const order = input.map((d) => position.get(d.event.id)!);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    expect(s.replayed).toBe(800);
    expect(s.spool_files).toBe(0);
    await sink.close();
  });

  test('wrong credentials: a clear error, no retry storm, documents spooled; a sink with the right key replays them', async () => {
    const dir = newDir();
    const bad = new FakeCluster();
    bad.behaviour = 'auth';
    const sink = makeSink(bad, dir);
    const input = docs(300, 'auth');
    for (const d of input) sink.write(d);
    await sink.flush();
    expect(sink.lastError).toContain('rejected the credentials (HTTP 401');
    expect(sink.lastError).toContain('es_config.api_key');
    expect(sink.stats().spool_docs).toBe(300);
    expect(sink.stats().retries).toBe(0); // a 401 is not retried in memory
    await sink.close();

    const good = new FakeCluster();
    const again = makeSink(good, dir);
    expect(await again.drain(5000)).toBe(true);
    expect(good.creates).toBe(300);
    await again.close();
  });

  test('413: the batch is sent in halves', async () => {
    const cluster = new FakeCluster();
    cluster.behaviour = 'too-large';
    cluster.maxDocsPerRequest = 30;
    const sink = makeSink(cluster, newDir(), { batchMaxDocs: 100 });
    for (const d of docs(100, 'big')) sink.write(d);
    await sink.flush();
    expect(cluster.creates).toBe(100);
    expect(sink.stats().spool_docs).toBe(0);
    await sink.close();
  });

  test('whole-request 429 (indexing pressure) is retried, then spooled, and nothing is lost', async () => {
    const cluster = new FakeCluster();
    cluster.behaviour = 'throttle-request';
    const sink = makeSink(cluster, newDir());
    for (const d of docs(200, 'press')) sink.write(d);
    await sink.flush();
    expect(sink.stats().throttled_requests).toBeGreaterThanOrEqual(4);
    expect(sink.stats().spool_docs).toBe(200);
    cluster.behaviour = 'up';
    expect(await sink.drain(5000)).toBe(true);
    expect(cluster.creates).toBe(200);
    await sink.close();
  });

  test('write() never waits for Elasticsearch: with every request hanging, the queue overflows to the spool', async () => {
    const cluster = new FakeCluster();
    let release!: () => void;
    cluster.gate = new Promise((r) => (release = r));
    const sink = makeSink(cluster, newDir(), { batchMaxDocs: 100, queueMaxBytes: 1024 * 1024 });
    const input = docs(20_000, 'hang');
    const t0 = performance.now();
    for (const d of input) sink.write(d);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    const s = sink.stats();
    expect(s.in_flight).toBe(2);
    expect(s.outage).toBe(1);
    expect(s.spool_docs).toBeGreaterThan(10_000);
    cluster.gate = undefined;
    release();
    expect(await sink.drain(20_000)).toBe(true);
    expect(cluster.creates).toBe(20_000);
    await sink.close();
  });

  test('spool bound reached: the oldest batches are dropped and every dropped document is counted', async () => {
    const cluster = new FakeCluster();
    cluster.behaviour = 'down';
    const sink = makeSink(cluster, newDir(), { spoolMaxBytes: 200_000, batchMaxDocs: 50, retry: { initialMs: 1, maxMs: 2, maxAttempts: 0 } });
    for (const d of docs(2000, 'full')) sink.write(d);
    await sink.flush();
    const s = sink.stats();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.spool_bytes).toBeLessThanOrEqual(200_000);
    expect(s.spool_docs! + s.dropped!).toBe(2000);
    cluster.behaviour = 'up';
    expect(await sink.drain(5000)).toBe(true);
    expect(cluster.creates + sink.stats().dropped!).toBe(2000);
    // the newest survived
    expect(cluster.stored.has('full-1999')).toBe(true);
    await sink.close();
  });

  test('close() spools what it could not deliver in time; a restart replays it', async () => {
    const dir = newDir();
    const cluster = new FakeCluster();
    let release!: () => void;
    cluster.gate = new Promise((r) => (release = r));
    const sink = makeSink(cluster, dir, { closeTimeoutMs: 50 });
    for (const d of docs(500, 'close')) sink.write(d);
    await sink.close();
    expect(sink.stats().spool_docs).toBe(500);
    expect(existsSync(join(dir, 'es-spool', 'lock'))).toBe(false);
    cluster.gate = undefined;
    release();
    const next = makeSink(cluster, dir);
    expect(await next.drain(5000)).toBe(true);
    expect(cluster.creates).toBe(500);
    await next.close();
  });

  test('a crash loses only what was in memory; spooled batches survive it', async () => {
    const dir = newDir();
    const cluster = new FakeCluster();
    cluster.behaviour = 'down';
    const sink = makeSink(cluster, dir, { retry: { initialMs: 1, maxMs: 2, maxAttempts: 0 } });
    for (const d of docs(300, 'crash')) sink.write(d);
    await sink.flush();
    expect(sink.stats().spool_docs).toBe(300);
    await sink.crash();
    cluster.behaviour = 'up';
    const next = makeSink(cluster, dir);
    expect(next.stats().outage).toBe(1); // spooled data first, then new data
    for (const d of docs(10, 'after')) next.write(d);
    expect(await next.drain(5000)).toBe(true);
    expect(cluster.creates).toBe(310);
    await next.close();
  });
});
