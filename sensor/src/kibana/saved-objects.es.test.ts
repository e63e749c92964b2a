/**
 * Every Elasticsearch query embedded in the shipped saved objects runs against the real node over captured data and
 * returns the shape its visualization reads: each Vega spec's `data.url` (Kibana's placeholders filled the way
 * Kibana fills them: %context%, %timefilter%, %dashboard_context-*%, %autointerval%), resolved at its
 * `format.property`, has every field the encoding names, and the spec compiles with vega-lite on those values; the
 * saved search's filter finds process events carrying its columns. Dashboards' panels resolve to their references.
 * Flows come from the committed real captures through the sensor's own pipeline; syscall documents from the
 * realistic generator the Elasticsearch output tests use.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { resolve } from 'node:path';
import { compile } from 'vega-lite';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode } from '../../../test/support/es.ts';
import { realisticDoc } from '../output/elasticsearch/testdata/ecs-docs.ts';
import { flowDocument } from '../pcap/ecs.ts';
import { processCaptureFile } from '../pcap/pipeline.ts';
import { loadSavedObjects, vegaSpec, type SavedObject } from './saved-objects.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `sobj${process.pid}`;
const files = loadSavedObjects();
const objects = files.flatMap((f) => f.objects);
let client: Client;
let window: { from: string; to: string };

function docs(): EcsEvent[] {
  const out: EcsEvent[] = [];
  for (let i = 0; i < 3000; i++) out.push(realisticDoc(i, { run: NS, namespace: NS, start: Date.parse('2026-02-01T10:00:00Z') }));
  for (const file of ['lo.pcapng', 'any-sll.pcap', 'multi-if.pcapng']) {
    processCaptureFile(resolve(ROOT, 'sensor/src/pcap/testdata', file), { onFlow: (r) => out.push(flowDocument(r, { host: { name: 'cap', id: 'cap' }, namespace: NS }) as unknown as EcsEvent) });
  }
  return out;
}

/** Kibana's placeholders, filled as Kibana fills them for a dashboard with no filters over `window`. */
function fill(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== '%dashboard_context-must_not_clause%').map(fill);
  if (value === '%dashboard_context-must_clause%' || value === '%dashboard_context-filter_clause%') return { match_all: {} };
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o['%timefilter%'] === true) return { gte: window.from, lte: window.to, format: 'strict_date_optional_time' };
    if (o['%timefilter%'] === 'min') return Date.parse(window.from);
    if (o['%timefilter%'] === 'max') return Date.parse(window.to);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      // %autointerval% becomes a fixed interval Kibana picks for the range; one hour here
      if (k === 'interval' && v && typeof v === 'object' && (v as Record<string, unknown>)['%autointerval%']) out.fixed_interval = '1h';
      else out[k] = fill(v);
    }
    return out;
  }
  return value;
}

function request(url: Record<string, unknown>): { index: string; body: Record<string, unknown> } {
  const body = fill(url.body) as Record<string, unknown>;
  if (url['%context%'] === true) {
    expect(body.query).toBeUndefined(); // Kibana refuses %context% with a query of the spec's own
    body.query = { bool: { must: [{ match_all: {} }], filter: [{ range: { [String(url['%timefield%'])]: { gte: window.from, lte: window.to, format: 'strict_date_optional_time' } } }] } };
  }
  // the test's namespace only: the node is shared with other tests
  body.query = { bool: { filter: [body.query, { term: { 'data_stream.namespace': NS } }] } };
  return { index: String(url.index), body };
}

const at = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);

beforeAll(async () => {
  const node = await testNode('open');
  client = testClient(node);
  const setup = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'setup', '--es', node.url, '--core-only'], { cwd: ROOT, env: { ...process.env, PROVMON_CONFIG: '' } });
  if (setup.exitCode !== 0) throw new Error(`provmon setup failed: ${setup.stderr.toString()}`);
  const all = docs();
  const body: unknown[] = [];
  for (const d of all) body.push({ create: { _index: `logs-${d.data_stream.dataset}-${NS}`, _id: d.event.id } }, d);
  for (let i = 0; i < body.length; i += 4000) {
    const r = await client.bulk({ operations: body.slice(i, i + 4000) });
    if (r.errors) throw new Error(JSON.stringify(r.items.find((it) => Object.values(it)[0]?.error)));
  }
  await client.indices.refresh({ index: `logs-provmon.*-${NS}` });
  const times = all.map((d) => Date.parse(d['@timestamp'])).sort((a, b) => a - b);
  window = { from: new Date(times[0]!).toISOString(), to: new Date(times[times.length - 1]! + 1).toISOString() };
});

afterAll(async () => {
  await client?.close();
});

describe('saved objects', () => {
  test('data views for logs-provmon.* and each dataset; a saved search; the three dashboards', () => {
    const titles = (type: string) => objects.filter((o) => o.type === type).map((o) => String(o.attributes.title)).sort();
    expect(titles('index-pattern')).toEqual(['logs-provmon.*', 'logs-provmon.dns-*', 'logs-provmon.file-*', 'logs-provmon.flow-*', 'logs-provmon.network-*', 'logs-provmon.process-*']);
    expect(titles('search')).toEqual(['provmon process events']);
    expect(titles('dashboard')).toEqual(['provmon network flows', 'provmon overview', 'provmon process activity']);
    for (const o of objects) expect({ id: o.id, versions: Boolean(o.coreMigrationVersion && o.typeMigrationVersion) }).toEqual({ id: o.id, versions: true });
  });

  test("every dashboard panel names a reference, and every reference is a panel's", () => {
    for (const d of objects.filter((o) => o.type === 'dashboard')) {
      const panels = JSON.parse(String(d.attributes.panelsJSON)) as { panelIndex: string; panelRefName: string; type: string }[];
      expect(panels.map((p) => `${p.panelIndex}:${p.panelRefName}`).sort()).toEqual(d.references.map((r) => r.name).sort());
      for (const p of panels) expect(d.references.find((r) => r.name === `${p.panelIndex}:${p.panelRefName}`)!.type).toBe(p.type);
    }
  });

  const visualizations = objects.filter((o) => vegaSpec(o));
  test('there are Vega visualizations on every dashboard', () => {
    expect(visualizations.length).toBeGreaterThanOrEqual(8);
  });

  for (const vis of visualizations) {
    test(`${vis.id}: its query runs on the real node and gives the rows its encoding reads`, async () => {
      const spec = vegaSpec(vis)!;
      const data = spec.data as { url: Record<string, unknown>; format: { property: string } };
      const { index, body } = request(data.url);
      const answer = await client.search({ index, ...body } as never);
      const rows = at(answer, data.format.property);
      expect(Array.isArray(rows)).toBe(true);
      const list = rows as Record<string, unknown>[];
      expect(list.length).toBeGreaterThan(0);
      const fields = Object.values(spec.encoding as Record<string, { field?: string }>).map((e) => e.field).filter((f): f is string => !!f);
      for (const f of fields) expect({ field: f, present: list.every((row) => at(row, f) !== undefined) }).toEqual({ field: f, present: true });
      const { data: _d, ...rest } = spec;
      const compiled = compile({ ...rest, data: { values: list } } as never);
      expect(compiled.spec.marks?.length ?? 0).toBeGreaterThan(0);
    });
  }

  test("the saved search's filter finds process events that carry its columns", async () => {
    const search = objects.find((o) => o.type === 'search') as SavedObject;
    const source = JSON.parse(String((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON)) as { filter: { query: Record<string, unknown> }[] };
    const index = objects.find((o) => o.id === search.references[0]!.id)!.attributes.title as string;
    const r = await client.search<EcsEvent>({ index, size: 50, query: { bool: { filter: [...source.filter.map((f) => f.query), { term: { 'data_stream.namespace': NS } }] } } as never });
    expect(r.hits.hits.length).toBeGreaterThan(0);
    for (const h of r.hits.hits) {
      expect(h._source!.data_stream.dataset).toBe('provmon.process');
      expect(h._source!.process?.name).toBeDefined();
    }
  });
});
