/**
 * The real sensor (`provmon run`) under a syscall flood: an attacker floods, then acts. The flood of write-opens
 * (high priority, nothing folds) runs while a marked exec and a connect happen; both must be in the store, and no
 * critical record may be lost (docs/ebpf.md "Priority classes"; drops are counted per class).
 */
import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSensor } from '../../../test/support/sensor.ts';
import { buildHelper, canRunKernelTests } from '../ebpf/testdata/harness.ts';

describe.skipIf(!canRunKernelTests)('provmon run under a syscall flood (root, kernel BPF)', () => {
  test('a marked exec and a connect made during a 100,000-round storm are both captured; no critical record lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provmon-flood-'));
    const helper = buildHelper(dir);
    const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    const eventsDir = join(dir, 'events');
    mkdirSync(eventsDir);
    const sensor = await startSensor({ eventsDir });
    try {
      const storm = Bun.spawn([helper, 'storm', join(dir, 'storm.dat'), '100000']);
      await Bun.sleep(100); // the storm is under way
      const marker = `provmon-flood-marker-${process.pid}`;
      const act = Bun.spawnSync(['/bin/sh', '-c', `/bin/echo ${marker} >/dev/null; ${helper} connect 127.0.0.1 ${server.port}`]);
      expect(act.exitCode).toBe(0);
      expect(await storm.exited).toBe(0);
      const summary = await sensor.stop();
      expect(summary.kernelDroppedByClass?.critical).toBe(0);
      const events = sensor.events();
      const exec = events.find((e) => e.event.action === 'exec' && e.process?.args?.includes(marker));
      const connect = events.find((e) => e.event.action === 'connection_attempted' && e.destination?.port === server.port);
      expect({ exec: exec?.process?.executable, connect: connect?.destination?.port, summary }).toEqual({ exec: '/usr/bin/echo', connect: server.port, summary });
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
