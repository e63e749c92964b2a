/**
 * The generator under the real sensor (root, eBPF): every manifest action must be found in what the sensor
 * captured, per category; the shares are printed for the closing note.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSensor } from '../../../test/support/sensor.ts';
import { coverage } from './coverage.ts';
import type { ManifestEntry } from './generate.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'provmon-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generate-activity under the real sensor', () => {
  test('every action of the mixed profile is in the captured documents (share per category)', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('provmon-activity-'));
    const sensor = await startSensor({ eventsDir: mkdtempSync(join(dir, 'events-')) });
    const manifest = join(dir, 'manifest.jsonl');
    const run = Bun.spawn([join(ROOT, 'bin', 'provmon'), 'generate-activity', '--profile', 'mixed', '--duration', '2', '--manifest', manifest], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
    expect(await run.exited).toBe(0);
    await Bun.sleep(1500); // the sensor's aggregates and ring drain
    await sensor.stop();
    const entries = readFileSync(manifest, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ManifestEntry);
    const rows = coverage(entries, sensor.events());
    console.log(rows.map((r) => `${r.category.padEnd(42)} ${r.found}/${r.actions} (${Math.round(r.share * 100)} %)${r.missing.length ? ` missing: ${JSON.stringify(r.missing[0])}` : ''}`).join('\n'));
    const techniques = new Set(entries.map((e) => e.technique).filter(Boolean));
    expect(techniques).toEqual(new Set(['T1082', 'T1003.008', 'T1053.003', 'T1543.002', 'T1048', 'T1036.003', 'T1070.004', 'T1070.006', 'T1046']));
    for (const row of rows) expect({ category: row.category, share: row.share }).toEqual({ category: row.category, share: 1 });
    // the sandbox is gone and nothing was left behind
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('provmon-activity-'))).toEqual(before);
    expect(existsSync(entries[0]!.files[0]!)).toBe(false);
  }, 120_000);
});
