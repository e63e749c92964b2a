/**
 * EsSearchSource without Elasticsearch: a fake point-in-time search that ignores the query and returns every
 * document in Elasticsearch's order for a `date` @timestamp (millisecond, sequence, id), paged by search_after.
 * The source's exact check and in-millisecond sort must still give MemorySource's answers, page by page.
 * (The real node runs the same suite in sensor/src/graph/source-conformance.es.test.ts.)
 */
import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../ecs.ts';
import { buildEventQuery, EsSearchSource, isIpLiteral, type PitSearch } from '../es-source.ts';
import { MemorySource, sortKey, type EventQuery, type EventSource } from '../source.ts';
import { EventFactory } from '../synthetic.ts';
import { parseTimestamp } from '../time.ts';

function fakeEs(docs: EcsEvent[]): PitSearch & { requests: number } {
  const key = (e: EcsEvent) => [Math.floor(parseTimestamp(e['@timestamp'])), e.event.sequence ?? -1, e.event.id] as const;
  const cmp = (a: readonly [number, number, string], b: readonly [number, number, string]) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
  const sorted = [...docs].sort((a, b) => cmp(key(a), key(b)));
  const fake = {
    requests: 0,
    openPointInTime: async () => ({ id: 'pit-1' }),
    closePointInTime: async () => ({}),
    pitExpired: () => false,
    search: async (p: Parameters<PitSearch['search']>[0]) => {
      fake.requests++;
      const after = p.search_after as [number, number, string] | undefined;
      const start = after ? sorted.findIndex((d) => cmp(key(d), after) > 0) : 0;
      const page = start < 0 ? [] : sorted.slice(start, start + p.size);
      return { hits: { hits: page.map((d) => ({ _source: d, sort: [...key(d)] })) } };
    },
  };
  return fake;
}

/** Two hosts whose clocks interleave inside milliseconds, sequences disagreeing with the microseconds. */
function events(): EcsEvent[] {
  const out: EcsEvent[] = [];
  for (const [host, offset, seqBase] of [['a', 0.1, 1000], ['b', 0.6, 0]] as const) {
    const f = new EventFactory({ host, start: '2025-06-01T00:00:00.000Z', stepMs: 1 });
    const sh = f.running(10, '/usr/bin/bash');
    for (let i = 0; i < 30; i++) {
      const p = f.spawn(sh, 100 + i, '/usr/bin/cat', ['cat', '/tmp/shared']);
      f.readFile(p, '/tmp/shared', 10);
      f.end(p);
    }
    for (const e of f.events) {
      const t = parseTimestamp(e['@timestamp']) + offset;
      const whole = Math.floor(t);
      e['@timestamp'] = `${new Date(whole).toISOString().slice(0, -1)}${String(Math.round((t - whole) * 1000)).padStart(3, '0')}Z`;
      e.event.sequence = seqBase - e.event.sequence!; // decreasing: Elasticsearch's order inside a millisecond is wrong
      out.push(e);
    }
  }
  return out;
}

async function pages(source: EventSource, q: EventQuery, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let after = q.after;
  for (let i = 0; i < 10_000; i++) {
    const page = await source.fetch({ ...q, limit, ...(after ? { after } : {}) });
    ids.push(...page.map((e) => e.event.id));
    if (page.length < limit) return ids;
    after = sortKey(page[page.length - 1]!);
  }
  throw new Error('no end');
}

describe('EsSearchSource (fake Elasticsearch in millisecond order)', () => {
  const docs = events();
  const memory = new MemorySource(docs);
  const queries: EventQuery[] = [
    { paths: ['/tmp/shared'] },
    { paths: ['/tmp/shared'], pathAccess: 'use', from: '2025-06-01T00:00:00.020Z', to: '2025-06-01T00:00:00.060500Z' },
    { entityIds: [docs[0]!.process!.entity_id] },
    { paths: ['/usr/bin/cat'], hostIds: ['b'] },
  ];
  for (const q of queries) {
    test(`same answers as MemorySource, whole and paged: ${JSON.stringify(q).slice(0, 90)}`, async () => {
      const es = new EsSearchSource(fakeEs(docs), { pageSize: 7 });
      const want = (await memory.fetch(q)).map((e) => e.event.id);
      expect(want.length).toBeGreaterThan(3);
      expect((await es.fetch(q)).map((e) => e.event.id)).toEqual(want);
      for (const limit of [1, 3, 10]) expect(await pages(es, q, limit)).toEqual(await pages(memory, q, limit));
    });
  }

  test('a page is read to the end of its last millisecond, not further', async () => {
    const fake = fakeEs(docs);
    const es = new EsSearchSource(fake, { pageSize: 100 });
    const page = await es.fetch({ paths: ['/tmp/shared'], limit: 5 });
    expect(page.map((e) => e.event.id)).toEqual((await memory.fetch({ paths: ['/tmp/shared'], limit: 5 })).map((e) => e.event.id));
    expect(fake.requests).toBe(1);
  });

  test('the query names the fields the mappings index, and nothing for non-addresses', () => {
    const q = JSON.stringify(buildEventQuery({ paths: ['/x'], pathAccess: 'modify', endpoints: [{ ip: '10.0.0.1', port: 80 }, { ip: 'nope' }], hostIds: ['h'] }));
    for (const f of ['file.path', 'provmon.open.flags', 'source.ip', 'destination.port', 'dns.resolved_ip', 'host.id', 'data_stream.dataset']) expect(q).toContain(f);
    expect(q).not.toContain('nope');
    expect(q).not.toContain('process.args'); // modify: an exec does not change the file
    expect(JSON.stringify(buildEventQuery({ endpoints: [{ ip: 'nope' }] }))).toContain('must_not');
  });

  test('ip literals', () => {
    for (const ok of ['127.0.0.1', '::1', '::', 'fe80::1%eth0', '2001:db8::8a2e:370:7334', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8']) expect({ ok, v: isIpLiteral(ok) }).toEqual({ ok, v: true });
    for (const bad of ['localhost', '256.1.1.1', '1.2.3', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::1', '']) expect({ bad, v: isIpLiteral(bad) }).toEqual({ bad, v: false });
  });
});
