/**
 * What `provmon analyze` writes is mapped by what `provmon setup` installs: a case with attributed flows, syscall
 * documents and audit records of four distributions goes into the real test node; then every field of every
 * document is found in its backing index's mapping with the type the templates promise (nothing left unindexed
 * by `dynamic: false`, nothing in `_ignored` by ignore_malformed, no document refused), and the new fields answer
 * the queries an analyst asks (confidence ranges, who ran sudo, which account was added).
 */
import type { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { testClient, testNode, type EsNode } from '../../../test/support/es.ts';
import { curlConnect, debianUserRecords, rhel7UserRecords, rhel9UserRecords, syslogUserRecord, ubuntuUserRecords } from '../audit/testdata/samples.ts';
import { leafTypes } from '../setup/assets/mappings.ts';
import type { CoreProperties } from '../setup/assets/types.ts';

setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../../..');
const NS = `map${process.pid}${Date.now().toString(36)}`;
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
const dir = mkdtempSync(join(tmpdir(), 'provmon-mapping-es-'));
const pcap = resolve(import.meta.dir, '../pcap/testdata/lo.pcapng');
// curl connects to the HTTP server that lo.pcapng's flows reach (as in analyze.es.test.ts), so flows get attributed
const syscalls = curlConnect('1795520759', '127.0.80.1', 8080);
const userRecords = [...debianUserRecords(), ...ubuntuUserRecords(), ...rhel7UserRecords(), ...rhel9UserRecords(), ...syslogUserRecord()];

let node: EsNode;
let client: Client;
let summary: { documents: Record<string, number> };

function provmon(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([join(ROOT, 'bin', 'provmon'), ...args], { cwd: dir, env: ENV });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Leaf paths of a document with their values (arrays of objects walk into their objects). */
function leaves(value: unknown, prefix: string, out: Map<string, unknown[]>): Map<string, unknown[]> {
  if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'object' && v !== null) leaves(v, prefix, out);
      else out.set(prefix, [...(out.get(prefix) ?? []), v]);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, [...(out.get(prefix) ?? []), value]);
  return out;
}

beforeAll(async () => {
  node = await testNode('open');
  client = testClient(node);
  writeFileSync(join(dir, 'audit.log'), `${[...syscalls, ...userRecords].join('\n')}\n`);
  const setup = provmon(['setup', '--es', node.url, '--core-only']);
  if (setup.code !== 0) throw new Error(`provmon setup failed: ${setup.stderr}`);
  const r = provmon(['analyze', '--pcap', pcap, '--audit-log', join(dir, 'audit.log'), '--es', node.url, '--namespace', NS, '--set', `output_dir=${join(dir, 'out')}`, '--json', '--log-level', 'warn']);
  if (r.code !== 0 || r.stderr !== '') throw new Error(`provmon analyze failed (${r.code}): ${r.stderr}`);
  summary = JSON.parse(r.stdout);
  await client.indices.refresh({ index: `logs-provmon.*-${NS}` });
});

afterAll(async () => {
  await client?.indices.deleteDataStream({ name: `logs-provmon.*-${NS}` }).catch(() => undefined);
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the setup templates map what provmon analyze writes', () => {
  test('every document is indexed, and every field of every document is mapped with a type, none ignored', async () => {
    // one per record of the samples (Debian 8, Ubuntu 5, RHEL 7 4, RHEL 9 4, kernel log 1): SYSCALL/SOCKADDR/PROCTITLE records riding along are not
    expect(summary.documents.audit).toBe(8 + 5 + 4 + 4 + 1);
    const count = await client.count({ index: `logs-provmon.*-${NS}` });
    expect(count.count).toBe(Object.values(summary.documents).reduce((a, b) => a + b, 0));
    const ignored = await client.count({ index: `logs-provmon.*-${NS}`, query: { exists: { field: '_ignored' } } });
    expect(ignored.count).toBe(0);

    const hits = await client.search<EcsEvent>({ index: `logs-provmon.*-${NS}`, size: 1000 });
    const mappings = await client.indices.getMapping({ index: `logs-provmon.*-${NS}` });
    const typesByIndex = new Map(Object.entries(mappings).map(([index, m]) => [index, leafTypes((m.mappings.properties ?? {}) as CoreProperties)]));
    const unmapped = new Set<string>();
    const seen = new Set<string>();
    for (const h of hits.hits.hits) {
      const types = typesByIndex.get(h._index)!;
      for (const path of leaves(h._source, '', new Map()).keys()) {
        seen.add(path);
        if (!types.has(path)) unmapped.add(`${h._index.replace(/^\.ds-|-\d{4}\.\d{2}\.\d{2}-\d+$/g, '')}: ${path}`);
      }
    }
    expect([...unmapped].sort()).toEqual([]);
    for (const f of ['provmon.attribution.method', 'provmon.attribution.confidence', 'provmon.attribution.evidence.event_id', 'provmon.audit.type', 'provmon.audit.auid', 'provmon.audit.command', 'user.target.name', 'group.name', 'source.domain']) {
      expect({ f, seen: seen.has(f) }).toEqual({ f, seen: true });
    }
  });

  test('field caps: attribution, responder and audit fields have the intended types and are searchable', async () => {
    const caps = await client.fieldCaps({ index: `logs-provmon.*-${NS}`, fields: ['provmon.attribution.*', 'provmon.responder_process.entity_id', 'provmon.audit.*', 'user.target.*'] });
    const typeOf = (f: string) => Object.keys(caps.fields[f] ?? {});
    expect(typeOf('provmon.attribution.confidence')).toEqual(['float']);
    expect(typeOf('provmon.attribution.method')).toEqual(['keyword']);
    expect(typeOf('provmon.attribution.evidence.at')).toEqual(['date']);
    expect(typeOf('provmon.responder_process.entity_id')).toEqual(['keyword']);
    expect(typeOf('provmon.audit.serial')).toEqual(['long']);
    expect(typeOf('provmon.audit.type')).toEqual(['keyword']);
    expect(typeOf('provmon.audit.command.text')).toEqual(['text']);
    expect(typeOf('user.target.name')).toEqual(['keyword']);
    for (const f of ['provmon.attribution.confidence', 'provmon.audit.type', 'provmon.audit.auid']) {
      const c = Object.values(caps.fields[f]!)[0]!;
      expect({ f, searchable: c.searchable, aggregatable: c.aggregatable }).toEqual({ f, searchable: true, aggregatable: true });
    }
  });

  test("an analyst's questions answer from the mapped fields", async () => {
    const count = async (index: string, query: object) => (await client.count({ index: `logs-provmon.${index}-${NS}`, query })).count;
    // confidence is a fraction: a long mapping would have truncated 0.9 to 0 and this range would find nothing
    expect(await count('flow', { range: { 'provmon.attribution.confidence': { gte: 0.85, lte: 0.95 } } })).toBeGreaterThanOrEqual(2);
    expect(await count('flow', { term: { 'provmon.attribution.method': 'connect_destination' } })).toBeGreaterThanOrEqual(2);
    // who ran sudo, and what
    expect(await count('audit', { bool: { filter: [{ term: { 'event.action': 'ran-command' } }, { term: { 'user.name': 'alice' } }] } })).toBe(2);
    expect(await count('audit', { match: { 'provmon.audit.command.text': 'shadow' } })).toBe(1);
    // failed logins from an address, accounts added
    expect(await count('audit', { bool: { filter: [{ term: { 'event.category': 'authentication' } }, { term: { 'event.outcome': 'failure' } }, { term: { 'source.ip': '203.0.113.50' } }] } })).toBe(2);
    expect(await count('audit', { term: { 'user.target.name': 'mallory' } })).toBe(2);
    expect(await count('audit', { term: { 'provmon.audit.auid_name': 'alice' } })).toBeGreaterThanOrEqual(5);
    // syscall documents keep their audit identity
    expect(await count('network', { term: { 'provmon.audit.key': 'pm_net' } })).toBe(1);
    expect(await count('process', { term: { 'provmon.audit.session': '2' } })).toBe(1);
  });
});
