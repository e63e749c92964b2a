/**
 * The Elasticsearch output against the real test node (templates installed by `provmon setup --core-only`):
 * documents land in the data streams with their ECS fields searchable, and with JSONL copies on, Elasticsearch
 * holds exactly the documents of the JSONL files.
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Dataset, EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode, type EsNode } from '../../../../test/support/es.ts';
import { DATASET_GROUPS, FIELD_GROUPS, leafTypes, mergeProperties } from '../../setup/assets/mappings.ts';
import { runSetup } from '../../setup/setup.ts';
import { createElasticsearchOutput } from './output.ts';
import { KITCHEN_SINK, realisticDocs } from './testdata/ecs-docs.ts';
import { allIds, removeTempDirs, captureLog, esConfig, jsonlIds, tempDirs } from './testdata/es-helpers.ts';

setDefaultTimeout(180_000);

const RUN = `out${process.pid}x${Date.now().toString(36)}`;
const NS = RUN; // one namespace per run: counts are exact
let node: EsNode;
let client: Client;

beforeAll(async () => {
  node = await testNode('open');
  client = testClient(node);
  await runSetup(esConfig(node).es_config, { coreOnly: true, print: () => undefined, client });
});

afterAll(async () => {
  removeTempDirs();
  await client?.close();
});

/** The value at a dotted path (first element of arrays). */
function valueAt(doc: unknown, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(v)) v = v[0];
    v = (v as Record<string, unknown> | undefined)?.[part];
  }
  return Array.isArray(v) ? v[0] : v;
}

describe('Elasticsearch output against the test node', () => {
  test('every document arrives once, in its data stream; the ES counts equal the JSONL copies', async () => {
    const dirs = tempDirs('es-out');
    const config = esConfig(node, { namespace: NS, batch_size: 500 }, { ebpf_config: { file_logging_enabled: true }, pcap_config: { file_logging_enabled: true } });
    const out = createElasticsearchOutput(config, dirs);
    const docs = realisticDocs(12_000, { run: RUN, namespace: NS });
    for (const d of docs) out.write(d);
    await out.flush();
    const s = out.stats();
    expect(s.indexed).toBe(12_000);
    expect(s.jsonl_written).toBe(12_000);
    expect([s.spool_docs, s.rejected, s.dropped]).toEqual([0, 0, 0]);
    await out.close();

    const perDataset = new Map<string, number>();
    for (const d of docs) perDataset.set(d.data_stream.dataset, (perDataset.get(d.data_stream.dataset) ?? 0) + 1);
    await client.indices.refresh({ index: `logs-provmon.*-${NS}` });
    for (const [dataset, n] of perDataset) {
      const c = await client.count({ index: `logs-${dataset}-${NS}` });
      expect({ dataset, count: c.count }).toEqual({ dataset, count: n });
    }
    const es = (await allIds(client, `logs-provmon.*-${NS}`)).sort();
    const jsonl = jsonlIds(dirs.eventsDir).sort();
    expect(es.length).toBe(12_000);
    expect(new Set(es).size).toBe(12_000);
    expect(es).toEqual(jsonl);
  });

  test('ECS fields are searchable with their types: every mapped field of every dataset finds its document', async () => {
    const out = createElasticsearchOutput(esConfig(node, { namespace: NS }), tempDirs('es-ks'));
    const datasets: Dataset[] = ['process', 'file', 'network', 'flow', 'dns'];
    const written = new Map<Dataset, EcsEvent>();
    for (const d of datasets) {
      const doc = structuredClone(KITCHEN_SINK) as unknown as EcsEvent;
      doc.event.id = `ks-${d}-${RUN}`;
      doc.event.dataset = `provmon.${d}`;
      doc.data_stream = { type: 'logs', dataset: `provmon.${d}`, namespace: `ks${NS}` };
      written.set(d, doc);
      out.write(doc);
    }
    await out.close();
    expect(out.stats().indexed).toBe(5);
    await client.indices.refresh({ index: `logs-provmon.*-ks${NS}` });
    let checked = 0;
    for (const d of datasets) {
      const fields = leafTypes(mergeProperties(...DATASET_GROUPS[d].map((g) => FIELD_GROUPS[g])));
      for (const [field, type] of fields) {
        const textField = field.endsWith('.text');
        const value = valueAt(written.get(d), textField ? field.slice(0, -5) : field);
        if (value === undefined) continue; // added by the pipelines, not written by the sensor
        const query = type === 'text' ? { match: { [field]: String(value) } } : { term: { [field]: value as string | number | boolean } };
        const r = await client.search({ index: `logs-provmon.${d}-ks${NS}`, query, size: 1, _source: ['event.id'] });
        expect({ d, field, hits: (r.hits.total as { value: number }).value }).toEqual({ d, field, hits: 1 });
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(150);
    // types are the ECS ones (core types), not dynamic guesses
    const caps = await client.fieldCaps({ index: `logs-provmon.*-ks${NS}`, fields: ['source.ip', 'dns.resolved_ip', 'event.duration', '@timestamp', 'provmon.flow.final', 'process.executable.text', 'network.community_id'] });
    expect(Object.keys(caps.fields['source.ip']!)).toEqual(['ip']);
    expect(Object.keys(caps.fields['dns.resolved_ip']!)).toEqual(['ip']);
    expect(Object.keys(caps.fields['event.duration']!)).toEqual(['long']);
    expect(Object.keys(caps.fields['@timestamp']!)).toEqual(['date']);
    expect(Object.keys(caps.fields['provmon.flow.final']!)).toEqual(['boolean']);
    expect(Object.keys(caps.fields['process.executable.text']!)).toEqual(['text']);
    expect(Object.keys(caps.fields['network.community_id']!)).toEqual(['keyword']);
  });

  test('realistic queries: by entity id, CIDR, action and time, as the graph and flow apps ask them', async () => {
    const index = `logs-provmon.*-${NS}`;
    const docs = realisticDocs(12_000, { run: RUN, namespace: NS });
    const entity = docs[0]!.process!.entity_id;
    const expected = docs.filter((d) => d.process?.entity_id === entity).length;
    const byEntity = await client.count({ index, query: { term: { 'process.entity_id': entity } } });
    expect(byEntity.count).toBe(expected);
    const cidr = await client.count({ index: `logs-provmon.network-${NS}`, query: { term: { 'destination.ip': '10.1.0.0/16' } } });
    expect(cidr.count).toBe(docs.filter((d) => d.data_stream.dataset === 'provmon.network').length);
    const aggs = await client.search({ index, size: 0, aggs: { actions: { terms: { field: 'event.action', size: 50 } } } });
    const buckets = (aggs.aggregations!.actions as { buckets: { key: string; doc_count: number }[] }).buckets;
    expect(buckets.find((b) => b.key === 'network_flow')!.doc_count).toBe(docs.filter((d) => d.event.action === 'network_flow').length);
    const dns = await client.count({ index: `logs-provmon.dns-${NS}`, query: { bool: { filter: [{ term: { 'dns.resolved_ip': '93.184.215.7' } }, { term: { 'dns.question.registered_domain': 'example.com' } }] } } });
    expect(dns.count).toBe(docs.filter((d) => d.dns?.resolved_ip?.[0] === '93.184.215.7').length);
    const window = await client.count({ index, query: { range: { '@timestamp': { gte: docs[100]!['@timestamp'], lt: docs[200]!['@timestamp'] } } } });
    expect(window.count).toBe(100);
  });

  test('the DNS enrich refresh timer runs, and on a cluster without the policy says so once and stops', async () => {
    const log = captureLog();
    const out = createElasticsearchOutput(esConfig(node, { namespace: NS, enrich_refresh_interval: 1 }), tempDirs('es-enrich'), log);
    await new Promise((r) => setTimeout(r, 1500));
    const s = out.stats();
    await out.close();
    expect(s.enrich_refresh_failures).toBe(1);
    expect(s.enrich_refreshes).toBe(0);
    expect(log.lines.filter((l) => l.includes('not refreshing the DNS enrich policy provmon-dns-by-ip-'))).toHaveLength(1);
  });
});
