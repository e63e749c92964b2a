/**
 * Ring buffer consumers and loss accounting against the real kernel.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { loadSensor, type BpfSensor } from './loader.ts';
import { LibbpfRing } from './ringbuf.ts';
import { startCapture } from './capture.ts';
import type { FileRecord, PmRecord } from './records.ts';
import { buildHelper, canRunKernelTests, tempDir } from './testdata/harness.ts';

describe.skipIf(!canRunKernelTests)('ring buffer (real kernel)', () => {
  let dir: string;
  let helper: string;

  beforeAll(() => {
    dir = tempDir('ring');
    helper = buildHelper(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a tiny ring under a burst drops, and produced − received = dropped exactly', async () => {
    // one page of ring (~30 records) and nobody consuming while 5000 failing opens run
    const sensor = loadSensor({ ringBytes: 4096 });
    let received = 0;
    let burst = 0;
    try {
      const r = Bun.spawnSync([helper, 'burst', '5000']);
      expect(r.exitCode).toBe(0);
      // stop producing, let programs still running on the other CPU finish, then drain everything
      sensor.detach();
      await Bun.sleep(100);
      let n: number;
      do {
        n = sensor.ring.drainRaw((dv, u8, off, len) => {
          received++;
          if (len >= 120 && dv.getUint32(off + 20, true) === r.pid && dv.getUint16(off, true) === 11) burst++;
        });
      } while (n > 0);
      const s = sensor.stats();
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.produced - s.dropped).toBe(received);
      expect(received).toBeLessThan(200);
      expect(burst).toBeLessThan(5000);
      expect(sensor.ring.pending()).toBe(0);
    } finally {
      sensor.close();
    }
  });

  test('with a ring large enough, the same burst arrives complete, nothing dropped', async () => {
    const sensor = loadSensor({ ringBytes: 8 * 1024 * 1024 });
    try {
      const r = Bun.spawnSync([helper, 'burst', '5000']);
      sensor.detach();
      await Bun.sleep(100);
      let burst = 0;
      let received = 0;
      while (
        sensor.ring.drain((rec) => {
          received++;
          if (rec.kind === 'openat' && rec.tgid === r.pid && rec.path === '/nonexistent/provmon-burst') {
            expect(rec.ret).toBe(-2);
            burst++;
          }
        }) > 0
      );
      const s = sensor.stats();
      expect(burst).toBe(5000);
      expect(s.dropped).toBe(0);
      expect(s.produced).toBe(received);
    } finally {
      sensor.close();
    }
  });

  test("libbpf's callback consumer and the mmap consumer decode identical records", async () => {
    // two sensors see the same syscalls; one is read through libbpf, the other through the mmap
    const a = loadSensor({ ringBytes: 4 * 1024 * 1024 });
    const b = loadSensor({ ringBytes: 4 * 1024 * 1024 });
    try {
      const r = Bun.spawnSync(['/bin/sh', '-c', `${helper} burst 200; cat /etc/hostname > /dev/null; ${helper} writes ${dir}/w 10`]);
      expect(r.exitCode).toBe(0);
      a.detach();
      b.detach();
      await Bun.sleep(100);
      const viaLibbpf: PmRecord[] = [];
      const lib = new LibbpfRing(a.mapFd('events'));
      try {
        while (lib.drain((x) => viaLibbpf.push(x)) > 0);
      } finally {
        lib.close();
      }
      const viaMmap: PmRecord[] = [];
      while (b.ring.drain((x) => viaMmap.push(x)) > 0);
      expect(viaLibbpf.length).toBe(a.stats().produced);
      expect(viaMmap.length).toBe(b.stats().produced);
      // the workload's records, without the per-program timestamps
      const mine = (list: PmRecord[]) =>
        list
          .filter((x) => x.ppid === r.pid || x.tgid === r.pid)
          .map((x) => JSON.stringify({ ...x, tsNs: 0, rdFirstNs: 0, rdLastNs: 0, wrFirstNs: 0, wrLastNs: 0 }));
      const A = mine(viaLibbpf);
      expect(A.length).toBeGreaterThan(200);
      expect(mine(viaMmap)).toEqual(A);
    } finally {
      a.close();
      b.close();
    }
  });

  test('mmap consumer across many wrap-arounds of a small ring: every record decodes, accounting exact', async () => {
    const sensor = loadSensor({ ringBytes: 16 * 1024 });
    let received = 0;
    let burst = 0;
    const pump = setInterval(() => {
      received += sensor.ring.drain((x) => {
        if (x.kind === 'openat' && (x as FileRecord).path === '/nonexistent/provmon-burst') burst++;
      });
    }, 1);
    try {
      const p = Bun.spawn([helper, 'burst', '20000']);
      await p.exited;
      sensor.detach();
      await Bun.sleep(100);
      clearInterval(pump);
      let n: number;
      do {
        n = sensor.ring.drain((x) => {
          received++;
          if (x.kind === 'openat' && (x as FileRecord).path === '/nonexistent/provmon-burst') burst++;
        });
      } while (n > 0);
      const s = sensor.stats();
      expect(sensor.ring.unknown).toBe(0);
      expect(s.produced - s.dropped).toBe(received);
      expect(burst).toBeGreaterThan(0);
      // 20000 records of ~130 bytes went through a 16 KiB ring: it wrapped > 100 times
      expect(burst + s.dropped).toBeGreaterThanOrEqual(20000);
    } finally {
      clearInterval(pump);
      sensor.close();
    }
  });

  test('startCapture polls, flushes on its timer, and stop() leaves nothing behind', async () => {
    const sensor = loadSensor({ ringBytes: 1 << 20 });
    const seen: PmRecord[] = [];
    const cap = startCapture(sensor, { onRecord: (r) => seen.push(r), pollMs: 5, flushMs: 100 });
    try {
      const p = Bun.spawn([helper, 'burst', '2000']);
      await p.exited;
      await Bun.sleep(250);
      // the poll timer kept up without any explicit drain
      expect(seen.filter((r) => r.kind === 'openat' && r.tgid === p.pid && r.path === '/nonexistent/provmon-burst')).toHaveLength(2000);
      sensor.detach();
      await Bun.sleep(50);
      cap.stop();
      const s = cap.stats();
      expect(s.inFlight).toBe(0);
      expect(s.dropped).toBe(0);
      expect(s.received).toBe(s.produced);
      // some interval flush ran on the timer (the host's long-lived processes have open fds)
      expect(seen.some((r) => r.kind === 'io' && r.reason === 'interval')).toBe(true);
    } finally {
      cap.stop();
      sensor.close();
    }
  });

  for (const queueBytes of [64 * 1024 * 1024, 0]) {
    const threaded = queueBytes > 0;
    test(`a sink that stalls for 2 s: ${threaded ? 'the drain thread queues what the kernel ring cannot hold, nothing dropped' : 'without the drain thread the kernel ring overflows (the test is not vacuous)'}`, async () => {
      // 4 MiB: the drain thread polls every millisecond while records flow, and the ring must cover its scheduling gaps
      const sensor = loadSensor({ ringBytes: 4 * 1024 * 1024 });
      let stalled = false;
      const seen: PmRecord[] = [];
      const cap = startCapture(sensor, {
        queueBytes,
        pollMs: 5,
        onRecord: (r) => {
          if (!stalled) {
            stalled = true;
            const until = Date.now() + 2000;
            while (Date.now() < until); // the sink is stuck: this thread does nothing else meanwhile
          }
          seen.push(r);
        },
      });
      try {
        const p = Bun.spawn([helper, 'burst', '60000']); // ~9 MB of records, twice the kernel ring
        await p.exited;
        await Bun.sleep(300);
        sensor.detach();
        cap.stop();
        const s = cap.stats();
        expect(s.inFlight).toBe(0);
        expect(s.drain).toBe(threaded ? 'thread' : 'inline');
        const burst = seen.filter((r) => r.kind === 'openat' && r.tgid === p.pid && (r as FileRecord).path === '/nonexistent/provmon-burst').length;
        if (threaded) {
          expect(s.dropped).toBe(0);
          expect(burst).toBe(60000);
        } else {
          expect(s.dropped).toBeGreaterThan(1000);
          expect(burst).toBeLessThan(60000);
        }
      } finally {
        cap.stop();
        sensor.close();
      }
    });
  }
});
