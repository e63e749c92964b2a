/**
 * The local store against other real processes: a writer killed with SIGKILL mid-write (the next start indexes
 * what it left, nothing twice), and two writers on one directory (the second is refused with a clear error).
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { LocalStoreSource } from '../../graph/local-source.ts';
import { LocalStore, LOCK_FILE } from './local-store.ts';

const ROOT = resolve(import.meta.dir, '../../../..');
const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'provmon-store-proc-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts the writer process and resolves once its store is open. */
async function startWriter(dir: string, batch = 200) {
  const child = Bun.spawn([process.execPath, resolve(ROOT, 'test/support/local-store-writer.ts'), dir, String(batch)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  const reader = child.stdout.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain('ready');
  reader.releaseLock();
  return child;
}

function jsonlLines(dir: string): { whole: EcsEvent[]; torn: number } {
  let torn = 0;
  const whole = readdirSync(dir)
    .filter((f) => f.startsWith('forensic-events') && f.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as EcsEvent];
          } catch {
            torn++;
            return [];
          }
        }),
    );
  return { whole, torn };
}

describe('the local store and other processes', () => {
  test('a writer killed with SIGKILL mid-write: the next start indexes every whole line it left, each once', async () => {
    const dir = newDir();
    const child = await startWriter(dir, 50);
    // let it write (and rotate) for a while, then kill it without warning
    for (let i = 0; i < 100 && readdirSync(dir).filter((f) => f.startsWith('forensic-events.')).length < 4; i++) await Bun.sleep(50);
    child.kill('SIGKILL');
    await child.exited;
    const before = LocalStoreSource.open(dir);
    const indexedBeforeRestart = before.info().events;
    before.close();
    const store = new LocalStore({ dir }); // takes over the dead writer's lock
    const repaired = store.stats;
    store.close();
    const { whole, torn } = jsonlLines(dir);
    expect(torn).toBe(0); // a torn last line was cut at start (counted in torn_tails)
    expect(whole.length).toBeGreaterThan(1000);
    const ids = whole.map((d) => d.event.id);
    expect(new Set(ids).size).toBe(ids.length);
    const source = LocalStoreSource.open(dir);
    expect(source.info().events).toBe(ids.length);
    expect(source.fetchSync({ eventIds: ids }).length).toBe(ids.length);
    expect(source.counters.stale).toBe(0);
    source.close();
    // what the dead writer's worker had indexed, plus what the restart read from the files, is every line
    expect(indexedBeforeRestart + repaired.reindexed).toBe(ids.length);
  });

  test('a second writer on one events dir is refused, naming the holder; provmon run exits 2 without a stack trace', async () => {
    const dir = newDir();
    const child = await startWriter(dir);
    try {
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(child.pid));
      expect(() => new LocalStore({ dir })).toThrow(`the local store ${dir} is in use by process ${child.pid}`);
      // the real CLI as the second sensor (a pcap file: no capture privileges needed)
      const pcap = join(newDir(), 'empty.pcap');
      const header = new DataView(new ArrayBuffer(24));
      header.setUint32(0, 0xa1b2c3d4, true);
      header.setUint16(4, 2, true);
      header.setUint16(6, 4, true);
      header.setUint32(16, 65535, true);
      header.setUint32(20, 1, true);
      writeFileSync(pcap, new Uint8Array(header.buffer));
      const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };
      const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'run', '--pcap-file', pcap, '--events-dir', dir, '--output-dir', newDir(), '--no-ebpf'], { cwd: ROOT, env });
      const stderr = r.stderr.toString();
      expect(stderr).toContain(`is in use by process ${child.pid}`);
      expect(stderr).toContain('two sensors cannot write one events_dir');
      expect(stderr).not.toContain('    at ');
      expect(r.exitCode).toBe(2);
    } finally {
      child.kill('SIGKILL');
      await child.exited;
    }
    // its owner is dead: the lock is stale and taken over
    const store = new LocalStore({ dir });
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    store.close();
    expect(readdirSync(dir)).not.toContain(LOCK_FILE);
  });
});
