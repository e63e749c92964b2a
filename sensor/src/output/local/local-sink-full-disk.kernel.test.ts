/**
 * Issue 13's full-disk reproduction against the real sensor: `provmon run` with its events dir on a tmpfs of a few MB
 * that fills up while it captures, then frees again. No stack trace, drops counted in the live stats, one warning
 * per condition, writing resumes, a graceful stop with exit 0, and a store that is consistent afterwards.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { startSensor } from '../../../../test/support/sensor.ts';
import { fillDisk, mountTmpfs } from '../../../../test/support/tmpfs.ts';
import { LocalStoreSource } from '../../graph/local-source.ts';
import { LocalStore } from './local-store.ts';

let mounted: ReturnType<typeof mountTmpfs> | undefined;
afterEach(() => {
  mounted?.unmount();
  mounted = undefined;
});

const parse = (lines: string[]) => lines.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : []));

/** File activity the sensor records: writes into a scratch directory outside the tmpfs. */
function activity(dir: string, tag: string, n: number): void {
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `${tag}-${i % 40}`), `${i}\n`);
}

async function until(what: string, check: () => boolean, work: () => void, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    work();
    await Bun.sleep(100);
  }
}

describe('provmon run on a disk that fills up (tmpfs, root, kernel)', () => {
  test('drops are counted in the live stats, logged once, writing resumes when space returns; exit 0, store consistent', async () => {
    // Room enough once the filler is gone: the sensor records the whole machine's file activity.
    mounted = mountTmpfs(64 * 1024);
    const dir = mounted.dir;
    fillDisk(join(dir, 'filler'), 256);
    const scratch = mkdtempSync(join(tmpdir(), 'provmon-activity-'));
    let stopped = false;
    const sensor = await startSensor({ eventsDir: dir, args: ['--set', 'stats_interval=1', '--output-dir', mkdtempSync(join(tmpdir(), 'provmon-out-'))] });
    try {
      const logs = () => parse(sensor.logLines());
      const sinkStats = () => logs().flatMap((l) => (l.sink ? [l.sink as Record<string, number>] : []));
      await until('documents dropped on the full disk', () => sinkStats().some((s) => s.dropped_disk_full! > 0), () => activity(scratch, 'full', 300));
      // once per file: the events file here (the health stream's file fills too, and says so on its own line)
      const eventsFile = (l: Record<string, unknown>) => String(l.target ?? '').endsWith('forensic-events.jsonl');
      expect(logs().filter((l) => l.cause === 'disk_full' && l.level === 40 && eventsFile(l))).toHaveLength(1);

      rmSync(join(dir, 'filler'));
      await until('writing to work again', () => logs().some((l) => l.cause === 'disk_full' && l.level === 30), () => activity(scratch, 'freed', 20));
      const marker = join(scratch, `after-space-${process.pid}`);
      writeFileSync(marker, 'written after the disk had room again\n');
      await Bun.sleep(1500);
      const summary = await sensor.stop();
      stopped = true;
      expect(summary.events.file).toBeGreaterThan(0);

      const lines = sensor.logLines();
      expect(lines.join('\n')).not.toContain('    at ');
      const last = sinkStats().at(-1)!;
      expect(last.dropped_disk_full).toBeGreaterThan(0);
      expect(last.dropped_write_error).toBe(0);

      // Whole lines only, each once; the file written after the space returned is there, and findable.
      // the sensor's health documents share the store (sensor-health.jsonl) and its index
      const docs = readdirSync(dir)
        .filter((f) => (f.startsWith('forensic-events') || f.startsWith('sensor-health')) && f.endsWith('.jsonl'))
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EcsEvent));
      const ids = docs.map((d) => d.event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(docs.some((d) => d.file?.path === marker)).toBe(true);
      new LocalStore({ dir }).close(); // what the index missed while the disk was full is indexed at the next start
      const source = LocalStoreSource.open(dir);
      expect(source.info().events).toBe(ids.length);
      expect((await source.fetch({ paths: [marker] })).length).toBeGreaterThan(0);
      source.close();
    } finally {
      if (!stopped) process.kill(sensor.pid, 'SIGKILL'); // a failed assertion must not leave a sensor running
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
