/**
 * `provmon graph` as a user runs it (bin/provmon in a subprocess) over a local store holding the engine's synthetic
 * workload: the JSON document, DOT, reduction on and off, windows, and every error a user can hit.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProvenanceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { syntheticWorkload } from '../../../kibana-plugin/common/graph/synthetic.ts';
import { LocalStore } from '../output/local/local-store.ts';
import { parseTimeBound } from '../cli/graph.ts';
import { removeTempDirs, tempDir } from './testdata/tmp.ts';

afterAll(removeTempDirs);

const ROOT = resolve(import.meta.dir, '../../..');

/** No configuration from the environment this test runs in. */
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };

function provmon(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), ...args], { cwd: ROOT, env: ENV });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const w = syntheticWorkload({ seed: 11, packages: 12, filesPerPackage: 12, requests: 12 });
const attack = w.attack!;
const dir = tempDir('provmon-graph-cli-');
{
  const store = new LocalStore({ dir });
  for (const e of w.events) store.write(e);
  store.close();
}
const exfil = `ip:${attack.exfilEndpoint.ip}:${attack.exfilEndpoint.port}`;

function graph(...args: string[]): ProvenanceGraph & { source: Record<string, string>; window?: unknown } {
  const r = provmon('graph', '--events-dir', dir, ...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('provmon graph over the local store', () => {
  test('backward from the exfiltration endpoint: the JSON document, the chain through the dropped file, flags, summary', () => {
    const g = graph('--poi', exfil);
    expect(Object.keys(g)).toEqual(['poi', 'direction', 'source', 'nodes', 'edges', 'stats', 'summary', 'truncated']);
    expect(g.poi).toBe(exfil);
    expect(g.direction).toBe('backward');
    expect(g.source).toEqual({ type: 'local', events_dir: dir });
    for (const n of g.nodes) expect(['process', 'file', 'channel', 'endpoint']).toContain(n.kind);
    for (const e of g.edges) {
      expect(Object.keys(e)).toEqual(expect.arrayContaining(['source', 'target', 'kind', 'first', 'last', 'count']));
      expect(g.nodes.some((n) => n.id === e.source) && g.nodes.some((n) => n.id === e.target)).toBe(true);
    }
    expect(Object.keys(g.stats)).toEqual(expect.arrayContaining(['events', 'nodes', 'edges', 'nodes_before', 'edges_before']));
    expect(g.stats.edges).toBe(g.edges.length);
    expect(g.stats.edges_before).toBeGreaterThan(g.stats.edges);

    const proc = (entity: string) => `process:${entity}`;
    const dropped = g.nodes.find((n) => n.kind === 'file' && n.path === attack.dropped)!;
    const edge = (kind: string, source: string, target: string) => g.edges.find((e) => e.kind === kind && e.source === source && e.target === target);
    const write = edge('write', proc(attack.downloader.entityId), dropped.id)!;
    const exec = edge('exec', dropped.id, proc(attack.payload.entityId))!;
    const secret = g.nodes.find((n) => n.path === attack.secret)!;
    const read = edge('read', secret.id, proc(attack.payload.entityId))!;
    const connect = g.edges.find((e) => e.kind === 'connect' && e.source === proc(attack.payload.entityId) && e.target.endsWith(`:${attack.exfilEndpoint.port}`))!;
    for (const e of [write, exec, read, connect]) expect(e.attack_path).toBe(true);
    expect(write.first < exec.first && exec.first < read.first && read.first <= connect.first).toBe(true);
    const rules = new Set(g.nodes.flatMap((n) => (n.flags ?? []).map((f) => f.rule)));
    for (const r of ['exec-from-writable-location', 'credential-read', 'exfiltration-after-credential-read']) expect(rules).toContain(r);
    expect(g.summary.some((s) => s.text.includes('/etc/shadow') && s.techniques?.includes('T1003.008'))).toBe(true);
  });

  test('--no-reduce: one edge per observed step, same attack path', () => {
    const reduced = graph('--poi', exfil);
    const raw = graph('--poi', exfil, '--no-reduce');
    expect(raw.stats.edges).toBe(raw.stats.edges_before);
    expect(raw.stats.edges_before).toBe(reduced.stats.edges_before);
    expect(raw.edges.every((e) => e.count === 1)).toBe(true);
    const onPath = (g: ProvenanceGraph) => new Set(g.edges.filter((e) => e.attack_path).map((e) => `${e.kind} ${e.source} ${e.target}`));
    expect([...onPath(reduced)].sort()).toEqual([...onPath(raw)].sort());
  });

  test('forward from the dropped file reaches the exfiltration and the self-deletion', () => {
    const g = graph('--poi', `file:${attack.dropped}`, '--direction', 'forward');
    expect(g.edges.some((e) => e.kind === 'connect' && e.source === `process:${attack.payload.entityId}`)).toBe(true);
    expect(g.edges.some((e) => e.kind === 'delete' && e.source === `process:${attack.remover.entityId}`)).toBe(true);
    expect(g.nodes.some((n) => n.flags?.some((f) => f.rule === 'self-deletion'))).toBe(true);
  });

  test('--format dot, --direction both, --depth, process and event points of interest', () => {
    const dot = provmon('graph', '--events-dir', dir, '--poi', `process:${attack.payload.entityId}`, '--direction', 'both', '--format', 'dot');
    expect(dot.code).toBe(0);
    expect(dot.stdout.startsWith('digraph provenance {')).toBe(true);
    expect(dot.stdout).toContain('both from process:');
    const shallow = provmon('graph', '--events-dir', dir, '--poi', exfil, '--depth', '1');
    expect(shallow.code).toBe(0);
    expect(JSON.parse(shallow.stdout).truncated.depth).toBe(true);
    expect(shallow.stderr).toContain('the graph was cut by the depth bound (--depth 1)');
    const connectId = w.events.find((e) => e.event.action === 'connection_attempted' && e.destination?.port === attack.exfilEndpoint.port)!.event.id;
    const ev = graph('--poi', `event:${connectId}`, '--direction', 'both');
    expect(ev.nodes.filter((n) => n.poi).length).toBe(2);
  });

  test('a window that starts after the download cuts the chain and says so', () => {
    const connect = w.events.find((e) => e.event.action === 'connection_attempted' && e.destination?.port === attack.exfilEndpoint.port)!;
    const r = provmon('graph', '--events-dir', dir, '--poi', exfil, '--from', connect['@timestamp']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('the graph was cut by the time window (--from/--to)');
    const g = JSON.parse(r.stdout) as ProvenanceGraph & { window?: unknown };
    expect(g.window).toEqual({ from: connect['@timestamp'] });
    expect(g.truncated.window).toBe(true);
    expect(g.edges.some((e) => e.kind === 'write' && e.source === `process:${attack.downloader.entityId}`)).toBe(false);
  });
});

describe('provmon graph errors', () => {
  test('a malformed point of interest is a usage error (2)', () => {
    for (const [poi, message] of [
      ['pid:12', 'expected process:<entity_id>, file:<absolute path>, ip:<ip>[:<port>] or event:<event.id>'],
      ['file:relative/path', 'file point of interest needs an absolute path'],
      ['ip:evil.example', '"evil.example" is not an IP address'],
      ['ip:127.0.0.1:99999', 'bad port'],
    ]) {
      const r = provmon('graph', '--events-dir', dir, '--poi', poi!);
      expect({ poi, code: r.code }).toEqual({ poi, code: 2 });
      expect(r.stderr).toContain(message!);
      expect(r.stdout).toBe('');
    }
  });

  test('an unknown entity id: nothing matched, with how to find ids; a pid gets the entity ids that had it', () => {
    const r = provmon('graph', '--events-dir', dir, '--poi', 'process:no-such-entity');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nothing matched process:no-such-entity in the local store in ${dir} (${w.events.length} events, `);
    expect(r.stderr).toContain('process.entity_id');
    expect(r.stderr).toContain("jq -r 'select(.event.action==\"exec\")");
    const byPid = provmon('graph', '--events-dir', dir, '--poi', `process:${attack.payload.pid}`);
    expect(byPid.code).toBe(1);
    expect(byPid.stderr).toContain(`${attack.payload.pid} looks like a pid; entity ids of processes with that pid:`);
    expect(byPid.stderr).toContain(`process:${attack.payload.entityId}  /usr/bin/bash`);
  });

  test('nothing matched a file, an address, or inside a window', () => {
    const f = provmon('graph', '--events-dir', dir, '--poi', 'file:/nowhere/at/all');
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('nothing matched file:/nowhere/at/all');
    const ip = provmon('graph', '--events-dir', dir, '--poi', 'ip:192.0.2.1:80');
    expect(ip.code).toBe(1);
    expect(ip.stderr).toContain('try the address without the port: --poi ip:192.0.2.1');
    const late = provmon('graph', '--events-dir', dir, '--poi', exfil, '--from', '2030-01-01');
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('between 2030-01-01T00:00:00.000Z and the end');
    expect(late.stderr).toContain('widen --from/--to');
  });

  test('no store, an empty store, two sources, a reversed window', () => {
    const none = provmon('graph', '--events-dir', join(dir, 'nope'), '--poi', exfil);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('the directory does not exist');
    const emptyDir = tempDir('provmon-graph-cli-empty-');
    new LocalStore({ dir: emptyDir }).close();
    const empty = provmon('graph', '--events-dir', emptyDir, '--poi', exfil);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`the local store in ${emptyDir} holds no events`);
    expect(empty.stderr).toContain('provmon run --events-dir');
    const both = provmon('graph', '--events-dir', dir, '--es', 'http://127.0.0.1:9', '--poi', exfil);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--events-dir and --es name two sources');
    const reversed = provmon('graph', '--events-dir', dir, '--poi', exfil, '--from', '2026-01-02', '--to', '2026-01-01');
    expect(reversed.code).toBe(2);
  });

  test('an unreachable Elasticsearch says where it tried (credentials not echoed)', () => {
    const cfg = join(tempDir('provmon-graph-cfg-'), 'config.json');
    writeFileSync(cfg, JSON.stringify({ es_config: { es_user: 'analyst', es_password: 'hunter2-secret' } }), { mode: 0o600 });
    const r = provmon('graph', '--config', cfg, '--es', 'http://127.0.0.1:9', '--poi', exfil);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Elasticsearch at http://127.0.0.1:9 (basic auth as analyst)');
    expect(r.stderr).not.toContain('hunter2');
  });
});

describe('time bounds', () => {
  test('ISO 8601, dates, offsets, now and durations before now', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(parseTimeBound('2026-11-24T10:00:00Z', now)).toBe('2026-11-24T10:00:00.000Z');
    expect(parseTimeBound('2026-11-24T10:00:00.123456Z', now)).toBe('2026-11-24T10:00:00.123456Z');
    expect(parseTimeBound('2026-11-24', now)).toBe('2026-11-24T00:00:00.000Z');
    expect(parseTimeBound('2026-11-24 10:00', now)).toBe('2026-11-24T10:00:00.000Z');
    expect(parseTimeBound('2026-11-24T12:00:00+02:00', now)).toBe('2026-11-24T10:00:00.000Z');
    expect(parseTimeBound('now', now)).toBe('2026-11-24T12:00:00.000Z');
    expect(parseTimeBound('15m', now)).toBe('2026-11-24T11:45:00.000Z');
    expect(parseTimeBound('2d', now)).toBe('2026-11-22T12:00:00.000Z');
    expect(() => parseTimeBound('yesterday', now)).toThrow(/ISO 8601/);
  });
});
