/**
 * Damaged index files, made for real (random bytes, a file cut in half, another version, another schema): the store
 * sets the file aside, rebuilds the index from the JSONL files and says so in one structured log line; `provmon
 * graph` over such a directory answers instead of printing a stack trace.
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { makeEvent } from '../../../../test/support/events.ts';
import { LocalStoreSource } from '../../graph/local-source.ts';
import { INDEX_VERSION } from './event-index.ts';
import { INDEX_FILE, LocalStore } from './local-store.ts';

const ROOT = resolve(import.meta.dir, '../../../..');
const T0 = Date.parse('2026-11-24T10:00:00Z');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const events: EcsEvent[] = Array.from({ length: 3000 }, (_, i) =>
  i % 100 === 0
    ? makeEvent('process', 'exec', T0 + i, { process: { pid: 10 + i, entity_id: `P${i}`, executable: `/usr/bin/tool${i}`, parent: { pid: 1, entity_id: 'P0' } } })
    : makeEvent('file', 'read', T0 + i, { process: { pid: 10, entity_id: `P${i - (i % 100)}` }, file: { path: `/srv/${i % 40}.dat` } }),
);

/** A store of `events` over several rotated files, closed (the index checkpointed into one file, no journal). */
function storeWithIndex(): string {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-damaged-'));
  dirs.push(dir);
  const store = new LocalStore({ dir, rotateBytes: 128 * 1024, maxFiles: 100 });
  for (const e of events) store.write(e);
  store.close();
  expect(existsSync(join(dir, `${INDEX_FILE}-wal`))).toBe(false);
  return dir;
}

const damages: [name: string, damage: (path: string) => void, problem: string][] = [
  ['random bytes', (path) => writeFileSync(path, crypto.getRandomValues(new Uint8Array(64 * 1024))), 'damaged'],
  ['cut in half', (path) => truncateSync(path, Math.floor(statSync(path).size / 2)), 'damaged'],
  [
    'another format version',
    (path) => {
      const db = new Database(path);
      db.exec('PRAGMA user_version = 7');
      db.close();
    },
    'version',
  ],
  [
    // What a store written before the events search's rollup holds: it is rebuilt in the current format.
    'the previous format version (2: no rollup, no search columns)',
    (path) => {
      rmSync(path);
      const db = new Database(path, { create: true });
      db.exec(`CREATE TABLE events (ts REAL NOT NULL, seq INTEGER NOT NULL, stream INTEGER NOT NULL, dataset TEXT NOT NULL, action TEXT NOT NULL,
        entity_id TEXT, parent_entity_id TEXT, path TEXT, path2 TEXT, ip TEXT, port INTEGER, ip2 TEXT, port2 INTEGER, event_id TEXT NOT NULL,
        host INTEGER NOT NULL, side INTEGER NOT NULL, file_id INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL);
        CREATE TABLE files (stream INTEGER NOT NULL, file_id INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, end INTEGER NOT NULL, PRIMARY KEY (stream, file_id));
        CREATE TABLE hosts (id INTEGER PRIMARY KEY, host_id TEXT NOT NULL UNIQUE);
        CREATE TABLE terms (kind INTEGER NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL);
        PRAGMA user_version = 2`);
      db.close();
    },
    'version',
  ],
  [
    'another schema under this version',
    (path) => {
      rmSync(path);
      const db = new Database(path, { create: true });
      db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, doc TEXT); PRAGMA user_version = ${INDEX_VERSION}`);
      db.close();
    },
    'schema',
  ],
];

describe('a damaged index is set aside and rebuilt from the JSONL files', () => {
  for (const [name, damage, problem] of damages) {
    test(`${name}: quarantined with a timestamp, logged once with structured fields, every event findable again`, async () => {
      const dir = storeWithIndex();
      const indexPath = join(dir, INDEX_FILE);
      damage(indexPath);
      const damagedBytes = readFileSync(indexPath);
      const warnings: Record<string, unknown>[] = [];
      const log = { info: () => {}, error: () => {}, warn: (fields: Record<string, unknown>) => warnings.push(fields) };
      const store = new LocalStore({ dir, log });
      expect(store.stats.reindexed).toBe(events.length);
      store.close();

      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ index: indexPath, problem });
      const moved = warnings[0]!.quarantined_as as string;
      expect(moved).toMatch(/events-index\.sqlite\.bad-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
      expect(readFileSync(moved).equals(damagedBytes)).toBe(true); // kept as it was, for inspection

      const source = LocalStoreSource.open(dir);
      expect(source.info().events).toBe(events.length);
      const found = await source.fetch({ entityIds: ['P2900'] });
      expect(found.map((e) => e.event.id)).toEqual(events.filter((e) => e.process?.entity_id === 'P2900').map((e) => e.event.id));
      source.close();
    });
  }

  test('provmon graph over a damaged index answers, with a notice and no stack trace', () => {
    const dir = storeWithIndex();
    writeFileSync(join(dir, INDEX_FILE), crypto.getRandomValues(new Uint8Array(32 * 1024)));
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
    const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'graph', '--events-dir', dir, '--poi', 'file:/srv/7.dat', '--direction', 'backward'], { cwd: ROOT, env });
    const stderr = r.stderr.toString();
    expect(stderr).toContain('its index is damaged');
    expect(stderr).not.toContain('    at ');
    expect(r.exitCode).toBe(0);
    const g = JSON.parse(r.stdout.toString()) as { nodes: { kind: string; path?: string }[] };
    expect(g.nodes.some((n) => n.kind === 'file' && n.path === '/srv/7.dat')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith(`${INDEX_FILE}.bad-`))).toHaveLength(1);
  });
});
