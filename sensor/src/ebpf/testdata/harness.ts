/**
 * Helpers for the *.kernel.test.ts files: a workload launcher that is not a descendant
 * of the sensor (so the own-tree filter does not hide it), a compiled C workload, and a
 * collector that drains the ring while the test awaits.
 */
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BpfSensor } from '../loader.ts';
import type { PmRecord } from '../records.ts';

export const canRunKernelTests = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `provmon-${tag}-`));
}

/** Compile testdata/pmhelper.c into dir (named `name`). */
export function buildHelper(dir: string, name = 'pmhelper'): string {
  const out = join(dir, name);
  const src = new URL('./pmhelper.c', import.meta.url).pathname;
  const r = Bun.spawnSync(['cc', '-O1', '-o', out, src], { stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`cc pmhelper.c failed (is a C compiler installed?): ${r.stderr}`);
  return out;
}

/**
 * A /bin/sh started BEFORE the sensor learns its own tgid: the sensor marks only its
 * descendants forked after that, so workloads run through here are captured, like any
 * other process on the host.
 */
export class Launcher {
  readonly proc: ReturnType<typeof Bun.spawn<'pipe', 'pipe', 'inherit'>>;
  private buf = '';
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private seq = 0;

  constructor() {
    this.proc = Bun.spawn(['/bin/sh'], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' });
    this.reader = this.proc.stdout.getReader();
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Run one shell command line; resolves with its exit status and stdout. */
  async run(cmd: string, timeoutMs = 20000): Promise<{ code: number; out: string }> {
    const marker = `__pm_done_${++this.seq}__`;
    this.proc.stdin.write(`${cmd}\necho "${marker} $?"\n`);
    this.proc.stdin.flush();
    const deadline = Date.now() + timeoutMs;
    const dec = new TextDecoder();
    for (;;) {
      const i = this.buf.indexOf(marker);
      if (i >= 0) {
        const nl = this.buf.indexOf('\n', i);
        if (nl >= 0) {
          const out = this.buf.slice(0, i);
          const code = Number(this.buf.slice(i + marker.length, nl).trim());
          this.buf = this.buf.slice(nl + 1);
          return { code, out };
        }
      }
      if (Date.now() > deadline) throw new Error(`launcher: timeout running ${cmd}`);
      const { value, done } = await this.reader.read();
      if (done) throw new Error('launcher shell exited');
      this.buf += dec.decode(value, { stream: true });
    }
  }

  /** Start a command in the background; returns its pid. */
  async spawn(cmd: string): Promise<number> {
    const r = await this.run(`${cmd} & echo $!`);
    return Number(r.out.trim().split('\n').pop());
  }

  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

/** Drains the sensor's ring on a short timer and keeps the decoded records. */
export class Collector {
  records: PmRecord[] = [];
  received = 0;
  private timer: ReturnType<typeof setInterval>;

  constructor(private readonly sensor: BpfSensor) {
    this.timer = setInterval(() => this.drain(), 5);
  }

  drain(): void {
    this.received += this.sensor.ring.drain((r) => this.records.push(r));
  }

  clear(): void {
    this.drain();
    this.records = [];
  }

  /** Wait until pred matches a record (draining meanwhile); returns the first match. */
  async waitFor<T extends PmRecord>(pred: (r: PmRecord) => r is T, timeoutMs?: number): Promise<T>;
  async waitFor(pred: (r: PmRecord) => boolean, timeoutMs?: number): Promise<PmRecord>;
  async waitFor(pred: (r: PmRecord) => boolean, timeoutMs = 3000): Promise<PmRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.drain();
      const hit = this.records.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching record within ${timeoutMs} ms (${this.records.length} records seen)`);
      await Bun.sleep(10);
    }
  }

  /** Let in-flight records arrive, then return all that match. */
  async settle(pred: (r: PmRecord) => boolean, ms = 150): Promise<PmRecord[]> {
    await Bun.sleep(ms);
    this.drain();
    return this.records.filter(pred);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
