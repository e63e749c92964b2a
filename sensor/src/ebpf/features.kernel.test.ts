/**
 * Optional kernel features and their fallbacks, folding, and priority classes, against the real
 * kernel. The periodic flush runs both ways on every machine that allows it: map iterators where
 * the kernel accepts `iter/` programs, and the tracepoint fallback always (forced where iterators
 * work), so CI proves the path this host uses and the one other hosts need.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { appendFileSync, closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSensor, probeFeatures, type BpfSensor } from './loader.ts';
import { Flag, type ExecRecord, type FileRecord, type FoldRecord, type IoRecord, type PmRecord } from './records.ts';
import { Collector, Launcher, buildHelper, canRunKernelTests, tempDir } from './testdata/harness.ts';

const isFold = (r: PmRecord): r is FoldRecord => r.kind === 'fold';
const isOpenOf = (pid: number, path: string) => (r: PmRecord): r is FileRecord => r.tgid === pid && 'path' in r && r.kind.startsWith('open') && (r as FileRecord).path === path;
const iterAccepted = canRunKernelTests && probeFeatures().find((f) => f.feature === 'iter')!.fallbackReason === undefined;

describe.skipIf(!canRunKernelTests)('optional features (real kernel)', () => {
  let dir: string;
  let helper: string;
  let launcher: Launcher;

  beforeAll(() => {
    dir = tempDir('features');
    helper = buildHelper(dir);
    launcher = new Launcher();
  });
  afterAll(() => {
    launcher?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a kernel that refuses iterators still loads the whole sensor, with the fallback named', () => {
    const sensor = loadSensor({ forceFallback: ['iter'], filters: { ownTgids: [process.pid] } });
    try {
      expect(sensor.flushMethod).toBe('tracepoint-flush');
      expect(sensor.features).toEqual([{ feature: 'iter', using: 'tracepoint-flush', fallbackReason: 'forced by configuration' }]);
      expect(sensor.programCount).toBeGreaterThanOrEqual(80);
    } finally {
      sensor.close();
    }
  });

  test('an unknown feature name is a configuration error (exit 2)', () => {
    expect(() => loadSensor({ forceFallback: ['fentry-magic'] })).toThrow(/unknown feature fentry-magic/);
  });

  for (const method of ['iter', 'tracepoint-flush'] as const) {
    const skip = method === 'iter' && !iterAccepted;
    test.skipIf(skip)(`flush by ${method}: interval counters of an open fd and pending fold counts, nothing lost at exit`, async () => {
      const sensor = loadSensor({ forceFallback: method === 'iter' ? [] : ['iter'], filters: { ownTgids: [process.pid] } });
      const col = new Collector(sensor);
      const target = join(dir, `flushed-${method}`);
      const src = join(dir, `src-${method}`);
      const fifo = join(dir, `gate-${method}`);
      writeFileSync(src, 'hello');
      try {
        expect(sensor.flushMethod).toBe(method);
        expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0);
        // 10 reads of src (1 reported open + 9 folded), then block in open() of the fifo (no record until it returns)
        const pid = await launcher.spawn(`${helper} reads ${src} 10 ${fifo}`);
        try {
          await col.waitFor(isOpenOf(pid, src));
          await Bun.sleep(300);
          sensor.flush();
          const fold = await col.waitFor((r): r is FoldRecord => isFold(r) && r.tgid === pid);
          expect(fold.count).toBe(9);
          expect(fold.path).toBe(src);
          expect(fold.rdCalls).toBe(9);
          expect(fold.rdBytes).toBe(45);
          expect(fold.recordFlags & Flag.NO_TASK).toBe(Flag.NO_TASK);
          expect(fold.ino).toBe(statSync(src).ino);
          closeSync(openSync(fifo, 'w'));
          await col.waitFor((r) => r.kind === 'exit' && r.tgid === pid);
        } finally {
          killQuietly(pid);
        }
        // an fd that stays open reports its writes on the interval
        const hold = await launcher.spawn(`${helper} hold ${target} ${fifo}`);
        try {
          await col.waitFor(isOpenOf(hold, target));
          await Bun.sleep(300);
          sensor.flush();
          const interval = await col.waitFor((x): x is IoRecord => x.kind === 'io' && x.tgid === hold && x.reason === 'interval');
          expect(interval.wrCalls).toBe(2);
          closeSync(openSync(fifo, 'w'));
          const atExit = await col.waitFor((x): x is IoRecord => x.kind === 'io' && x.tgid === hold && x.fd === interval.fd && x.reason === 'exit');
          expect(atExit.wrCalls).toBe(1);
        } finally {
          killQuietly(hold);
        }
        const s = sensor.stats();
        expect(s.lost).toBe(0);
      } finally {
        col.stop();
        sensor.close();
      }
    });
  }
});

describe.skipIf(!canRunKernelTests)('folding and priority (real kernel)', () => {
  let dir: string;
  let helper: string;
  let launcher: Launcher;
  let sensor: BpfSensor;
  let col: Collector;

  beforeAll(() => {
    dir = tempDir('fold');
    helper = buildHelper(dir);
    launcher = new Launcher();
    sensor = loadSensor({ filters: { ownTgids: [process.pid] } });
    col = new Collector(sensor);
  });
  afterAll(() => {
    col?.stop();
    launcher?.close();
    sensor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('1000 open/read/close rounds of one file: the first open reported at once, the rest in one fold at exit', async () => {
    const src = join(dir, 'same');
    writeFileSync(src, 'abc');
    const r = await launcher.run(`${helper} reads ${src} 1000`);
    expect(r.code).toBe(0);
    const exit = await col.waitFor((x) => x.kind === 'exit' && x.tgid !== launcher.pid && (col.records.some(isOpenOf(x.tgid, src))));
    const pid = exit.tgid;
    const opens = col.records.filter(isOpenOf(pid, src));
    const closes = col.records.filter((x): x is IoRecord => x.kind === 'close' && x.tgid === pid && x.fd === opens[0]!.ret && x.tsNs > opens[0]!.tsNs);
    const folds = col.records.filter((x): x is FoldRecord => isFold(x) && x.tgid === pid);
    expect(opens.length).toBe(1);
    expect(closes.length).toBe(1);
    expect(closes[0]!.rdCalls).toBe(1);
    expect(folds.length).toBe(1);
    expect(folds[0]!.count).toBe(999);
    expect(folds[0]!.rdCalls).toBe(999);
    expect(folds[0]!.rdBytes).toBe(999 * 3);
    // at exit the fold comes from the process itself (header meaningful), before its exit record
    expect(folds[0]!.recordFlags & Flag.NO_TASK).toBe(0);
    expect(col.records.indexOf(folds[0]!)).toBeLessThan(col.records.indexOf(exit));
    expect(folds[0]!.firstNs).toBeGreaterThan(opens[0]!.tsNs);
    expect(folds[0]!.lastNs).toBeGreaterThanOrEqual(folds[0]!.firstNs);
  });

  test('a write between reads is never folded away: reads before it, the write-open, then a new first read', async () => {
    const src = join(dir, 'changing');
    writeFileSync(src, 'v1\n');
    const r = await launcher.run(`${helper} readwrite ${src}`);
    expect(r.code).toBe(0);
    const exit = await col.waitFor((x) => x.kind === 'exit' && col.records.some((o) => isOpenOf(x.tgid, src)(o) && ((o as FileRecord).flags & 3) === 1));
    const mine = col.records.filter((x) => x.tgid === exit.tgid && (isOpenOf(exit.tgid, src)(x) || isFold(x)));
    // open(r) [fold 1 pending] -> version changes -> fold(1) reported before the write-open -> open(w) -> open(r) -> fold(1) at exit
    expect(mine.map((x) => (isFold(x) ? `fold${x.count}` : (x as FileRecord).flags & 3 ? 'write' : 'read'))).toEqual(['read', 'write', 'fold1', 'read', 'fold1']);
    const writeOpen = mine[1]!;
    const firstFold = mine[2] as FoldRecord;
    expect(firstFold.lastNs).toBeLessThan(writeOpen.tsNs);
  });

  test('fold off: every open is a record', async () => {
    const s2 = loadSensor({ fold: false, filters: { ownTgids: [process.pid] } });
    const c2 = new Collector(s2);
    try {
      const src = join(dir, 'unfolded');
      writeFileSync(src, 'x');
      await launcher.run(`${helper} reads ${src} 50`);
      const exit = await c2.waitFor((x) => x.kind === 'exit' && c2.records.some(isOpenOf(x.tgid, src)));
      expect(c2.records.filter(isOpenOf(exit.tgid, src)).length).toBe(50);
      expect(c2.records.some((x) => isFold(x) && x.tgid === exit.tgid)).toBe(false);
    } finally {
      c2.stop();
      s2.close();
    }
  });

  for (const flood of [
    { what: 'failed read-only opens (low priority)', cmd: 'burst 40000', cls: 'droppedLow' as const },
    { what: 'write-opens of one file (high priority)', cmd: 'storm FILE 40000', cls: 'droppedHigh' as const },
    { what: 'refused connects (network class)', cmd: 'connects 127.0.0.1 9 40000', cls: 'droppedNet' as const },
  ]) {
    const arrive = flood.cls === 'droppedNet' ? 'an exec' : 'an exec and a connect';
    test(`a flood of ${flood.what} cannot take the ring's reserve: ${arrive} made during it ${flood.cls === 'droppedNet' ? 'arrives' : 'arrive'}`, async () => {
      // 4 MiB ring, nobody draining: the flood fills it to its class's watermark. The critical eighth (512 KiB) is
      // shared with every other process on the host, whose execs and exits also wait in this undrained ring.
      const small = loadSensor({ ringBytes: 4 * 1024 * 1024, filters: { ownTgids: [process.pid] } });
      try {
        const marker = `provmon-marker-${process.pid}`;
        const cmd = flood.cmd.replace('FILE', join(dir, 'flood'));
        // the exec is critical; the connect is in the network class, which only a flood of its own class can take
        const probe = flood.cls === 'droppedNet' ? '' : `; ${helper} connect 127.0.0.1 9`;
        const r = await launcher.run(`${helper} ${cmd}; /bin/echo ${marker}${probe}`);
        expect(r.out).toContain(marker);
        const records: PmRecord[] = [];
        small.ring.drain((x) => records.push(x));
        const s = small.stats();
        expect(s[flood.cls]).toBeGreaterThan(1000);
        expect(s.droppedCritical).toBe(0);
        expect(records.some((x): x is ExecRecord => x.kind === 'execve' && (x as ExecRecord).argv[1] === marker)).toBe(true);
        if (probe) expect(records.some((x) => x.kind === 'connect' && (x as { remotePort: number }).remotePort === 9)).toBe(true);
      } finally {
        small.close();
      }
    });
  }
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
