import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS } from '../../../kibana-plugin/common/ecs.ts';
import { KITCHEN_SINK } from '../output/elasticsearch/testdata/ecs-docs.ts';
import { buildAssets, defaultAssetOptions, metaOf, type Asset } from './assets/index.ts';
import { DATASET_GROUPS, FIELD_GROUPS, leafPaths, mergeProperties, SOURCE_ONLY_OBJECTS } from './assets/mappings.ts';
import { ASSETS_VERSION } from './assets/meta.ts';
import { processorTypes } from './assets/pipelines.ts';
import type { CoreProperties, CoreProperty } from './assets/types.ts';
import { PROCESSOR_CAPABILITIES } from './check.ts';
import { existingAssetFiles, renderAssetFiles, REPO_ROOT } from './gen-assets.ts';

const full = buildAssets(defaultAssetOptions('full'));
const core = buildAssets(defaultAssetOptions('core'));

/** Leaf paths of a document (arrays of objects contribute their objects' paths). */
function docLeaves(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => docLeaves(v, prefix)))];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => docLeaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

/** Fields the ingest pipelines add (not written by the sensor), and keyword/text multi-fields. */
const PIPELINE_FIELDS = ['event.ingested', 'tags', 'dns.question.subdomain', 'dns.question.top_level_domain'];

function allProperties(): CoreProperties {
  return mergeProperties(...Object.values(FIELD_GROUPS));
}

function walkTypes(props: CoreProperties, out: Set<string>): Set<string> {
  for (const p of Object.values(props)) {
    out.add(p.type ?? 'object');
    if ('properties' in p && p.properties) walkTypes(p.properties, out);
    if ('fields' in p && p.fields) for (const f of Object.values(p.fields)) out.add(f.type);
  }
  return out;
}

describe('Elasticsearch assets', () => {
  test('the committed JSON files in index-templates/ and ingest-pipelines/ are exactly what the generator writes', () => {
    const files = renderAssetFiles();
    expect(existingAssetFiles()).toEqual([...files.keys()].sort());
    for (const [path, text] of files) expect({ path, text: readFileSync(join(REPO_ROOT, path), 'utf8') }).toEqual({ path, text });
  });

  test('the mappings cover exactly the fields of ecs.ts (plus what the pipelines add)', () => {
    const mapped = leafPaths(allProperties()).filter((p) => !p.endsWith('.text'));
    const written = docLeaves(KITCHEN_SINK)
      .filter((f) => !SOURCE_ONLY_OBJECTS.some((o) => f.startsWith(`${o}.`)))
      .sort();
    expect(written.filter((f) => !mapped.includes(f))).toEqual([]);
    expect(mapped.filter((f) => !written.includes(f) && !PIPELINE_FIELDS.includes(f))).toEqual([]);
  });

  test('each dataset maps what its documents carry', () => {
    const need: Record<string, string[]> = {
      process: ['process.entity_id', 'process.parent.entity_id', 'user.id', 'provmon.previous_user_id', 'provmon.audit.auid'],
      file: ['file.path', 'process.entity_id', 'provmon.io.bytes', 'provmon.open.flags', 'provmon.file.source_path'],
      network: ['destination.ip', 'source.port', 'network.transport', 'process.entity_id', 'provmon.io.count', 'network.community_id'],
      flow: ['network.community_id', 'source.bytes', 'destination.domain', 'provmon.flow.final', 'event.duration', 'provmon.attribution.confidence', 'provmon.responder_process.entity_id'],
      dns: ['dns.question.name', 'dns.resolved_ip', 'dns.answers.data', 'dns.question.registered_domain'],
      health: ['agent.version', 'provmon.health.ring.dropped_by_class.critical', 'provmon.health.events_per_s.file', 'provmon.health.fallbacks'],
      audit: ['event.outcome', 'user.name', 'user.target.name', 'source.ip', 'process.executable', 'provmon.audit.type', 'provmon.audit.command'],
    };
    for (const d of DATASETS) {
      const paths = leafPaths(mergeProperties(...DATASET_GROUPS[d].map((g) => FIELD_GROUPS[g])));
      for (const f of [...need[d]!, '@timestamp', 'event.id', 'event.ingested', 'host.id', 'data_stream.dataset']) expect({ d, f, mapped: paths.includes(f) }).toEqual({ d, f, mapped: true });
    }
  });

  test('only core field types, objects are dynamic: false, and no field is mapped twice with different types', () => {
    expect([...walkTypes(allProperties(), new Set())].sort()).toEqual(['boolean', 'date', 'float', 'ip', 'keyword', 'long', 'object', 'text']);
    const types = new Map<string, string>();
    const record = (props: CoreProperties, prefix: string) => {
      for (const [k, p] of Object.entries(props) as [string, CoreProperty][]) {
        const path = prefix ? `${prefix}.${k}` : k;
        if ('properties' in p && p.properties) record(p.properties, path);
        else {
          const have = types.get(path);
          if (have) expect({ path, type: p.type }).toEqual({ path, type: have as CoreProperty['type'] });
          types.set(path, p.type ?? 'object');
        }
      }
    };
    for (const g of Object.values(FIELD_GROUPS)) record(g, '');
    for (const a of full) if (a.kind === 'component_template' && a.body.template.mappings) expect(a.body.template.mappings.dynamic).toBe(false);
  });

  test('index templates: data streams, priority above Fleet, patterns that only match provmon datasets', () => {
    const templates = full.filter((a): a is Extract<Asset, { kind: 'index_template' }> => a.kind === 'index_template' && a.body.data_stream !== undefined);
    expect(templates.map((t) => t.name).sort()).toEqual(DATASETS.map((d) => `logs-provmon.${d}`).sort());
    for (const t of templates) {
      expect(t.body.priority!).toBeGreaterThan(200);
      expect(t.body.index_patterns).toEqual([`${t.name}-*`]);
      expect(t.body.composed_of!.at(-1)).toBe(`${t.name}@custom`);
      expect(t.body.ignore_missing_component_templates).toEqual([`${t.name}@custom`]);
    }
    // composed only of components that are installed (or the optional @custom)
    const components = new Set(full.filter((a) => a.kind === 'component_template').map((a) => a.name));
    for (const t of templates) for (const c of t.body.composed_of!) expect(components.has(c) || c.endsWith('@custom')).toBe(true);
  });

  test('the core profile is templates only, with no pipeline and no lifecycle in its settings', () => {
    expect(new Set(core.map((a) => a.kind))).toEqual(new Set(['component_template', 'index_template']));
    const text = JSON.stringify(core.map((a) => a.body));
    expect(text).not.toContain('"default_pipeline"');
    expect(text).not.toContain('"lifecycle"');
    const fullSettings = full.find((a) => a.name === 'logs-provmon.flow@settings')!;
    expect(JSON.stringify(fullSettings.body)).toContain('"default_pipeline":"logs-provmon.flow"');
    expect(JSON.stringify(fullSettings.body)).toContain('"name":"logs-provmon.flow@lifecycle"');
  });

  test('pipelines: event.ingested without mustache, one per dataset, every processor accounted for in the cluster check', () => {
    const pipelines = full.filter((a): a is Extract<Asset, { kind: 'ingest_pipeline' }> => a.kind === 'ingest_pipeline');
    expect(pipelines.map((p) => p.name).sort()).toEqual(DATASETS.map((d) => `logs-provmon.${d}`).sort());
    for (const p of pipelines) {
      expect(p.body.processors![0]).toEqual({ set: expect.objectContaining({ field: 'event.ingested', copy_from: '_ingest.timestamp' }) });
      expect(JSON.stringify(p.body)).not.toContain('{{');
      for (const t of processorTypes(p.body)) expect({ t, known: t in PROCESSOR_CAPABILITIES }).toEqual({ t, known: true });
    }
    const flow = JSON.stringify(pipelines.find((p) => p.name === 'logs-provmon.flow')!.body);
    const enrich = full.find((a) => a.kind === 'enrich_policy')!;
    expect(flow).toContain(`"policy_name":"${enrich.name}"`);
    expect(flow).toContain('"internal_networks":["loopback","private","link_local_unicast"]');
    expect(flow).toContain('"community_id"');
    expect(JSON.stringify(pipelines.find((p) => p.name === 'logs-provmon.dns')!.body)).toContain('"registered_domain"');
  });

  test('configuration reaches the assets: retention, internal networks', () => {
    const custom = buildAssets({ ...defaultAssetOptions('full'), internalNetworks: ['10.0.0.0/8'], retentionDays: { ...defaultAssetOptions().retentionDays, dns: 7, flow_rollup: 90 } });
    const ilm = custom.find((a) => a.name === 'logs-provmon.dns@lifecycle')!;
    expect(JSON.stringify(ilm.body)).toContain('"min_age":"7d"');
    expect(JSON.stringify(custom.find((a) => a.kind === 'transform')!.body)).toContain('"max_age":"90d"');
    expect(JSON.stringify(custom.find((a) => a.name === 'logs-provmon.flow' && a.kind === 'ingest_pipeline')!.body)).toContain('"internal_networks":["10.0.0.0/8"]');
    // a configuration change changes the hash, so setup upgrades the asset
    const before = metaOf(full.find((a) => a.name === 'logs-provmon.dns@lifecycle')!)!;
    const after = metaOf(ilm)!;
    expect(after.version).toBe(before.version);
    expect(after.hash).not.toBe(before.hash);
  });

  test('everything but the (immutable, hash-named) enrich policy is versioned in _meta', () => {
    for (const a of full) {
      const meta = metaOf(a);
      if (a.kind === 'enrich_policy') {
        expect(meta).toBeUndefined();
        expect(a.name).toMatch(/^provmon-dns-by-ip-[0-9a-f]{8}$/);
        continue;
      }
      expect({ name: a.name, managed_by: meta?.managed_by, version: meta?.version }).toEqual({ name: a.name, managed_by: 'provmon', version: ASSETS_VERSION });
      expect(meta?.hash).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  test('the rollup transform syncs on event.ingested with 1-minute buckets', () => {
    const t = full.find((a): a is Extract<Asset, { kind: 'transform' }> => a.kind === 'transform')!;
    expect(t.body.sync?.time?.field).toBe('event.ingested');
    expect(t.body.pivot?.group_by?.['@timestamp']?.date_histogram?.fixed_interval).toBe('1m');
    expect(t.body.source.index).toEqual(['logs-provmon.flow-*']);
  });
});
