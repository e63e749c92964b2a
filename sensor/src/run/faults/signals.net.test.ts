/**
 * Fault injection: real signals to a real `provmon run` (live capture on loopback: needs root) at each phase of its
 * life. The rule: every signal ends in a graceful stop with the structured final summary and exit 0; what was
 * captured reaches the store (or the spool), and nothing is lost to a second signal.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProvmon, type LogRecord } from '../../../../test/support/provmon-process.ts';

setDefaultTimeout(90_000);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'provmon-signals-'));
  dirs.push(d);
  return d;
}

/** A UDP port nobody listens on, so each test's packets form flows only that test's filter sees. */
let nextPort = 40_000 + (process.pid % 5_000) * 4;

function liveArgs(dir: string, port: number, extra: string[] = []): string[] {
  return ['run', '--no-ebpf', '--interface', 'lo', '--bpf-filter', `udp and port ${port}`, '--events-dir', dir, '--output-dir', join(dir, 'out'), ...extra];
}

async function sendUdp(port: number, count: number): Promise<void> {
  const sock = createSocket('udp4');
  for (let i = 0; i < count; i++) await new Promise<void>((r) => sock.send(Buffer.from(`probe ${i}`), port, '127.0.0.1', () => r()));
  sock.close();
}

function flowsIn(dir: string): Record<string, unknown>[] {
  const text = readFileSync(join(dir, 'pcap-flows.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const isPhase = (p: string) => (r: LogRecord) => r.phase === p;

describe('signals at every phase of a run', () => {
  test('SIGHUP (a closed terminal) while running stops gracefully: flows flushed, summary says SIGHUP, exit 0', async () => {
    const dir = scratch();
    const port = nextPort++;
    const p = spawnProvmon(liveArgs(dir, port));
    await p.waitFor(isPhase('capturing'), 'capture running');
    await sendUdp(port, 5);
    await Bun.sleep(300); // libpcap hands packets over in blocks retired by a timeout
    p.signal('SIGHUP');
    expect(await p.exited).toBe(0);
    const summary = p.summary();
    expect(summary?.stop).toEqual({ reason: 'SIGHUP', signals: ['SIGHUP'], hurried: false });
    expect((summary?.events as Record<string, number>).flow).toBe(1);
    const flows = flowsIn(dir);
    expect(flows.length).toBe(1);
    expect((flows[0] as { destination: { port: number } }).destination.port).toBe(port);
  });

  test('SIGINT during start-up (before capture is attached) is a graceful stop right after start-up, not a kill', async () => {
    const dir = scratch();
    const p = spawnProvmon(liveArgs(dir, nextPort++));
    await p.waitFor(isPhase('starting'), 'start-up');
    p.signal('SIGINT');
    expect(await p.exited).toBe(0);
    expect(p.summary()?.stop).toEqual({ reason: 'SIGINT', signals: ['SIGINT'], hurried: false });
    expect(p.rawLines).toEqual([]); // no stack trace, only structured lines
  });

  test('two SIGINTs in quick succession while running: one graceful stop, the captured flow kept', async () => {
    const dir = scratch();
    const port = nextPort++;
    const p = spawnProvmon(liveArgs(dir, port));
    await p.waitFor(isPhase('capturing'), 'capture running');
    await sendUdp(port, 3);
    await Bun.sleep(300);
    p.signal('SIGINT');
    p.signal('SIGINT');
    expect(await p.exited).toBe(0);
    const stop = p.summary()?.stop as { reason: string; signals: string[] };
    expect(stop.reason).toBe('SIGINT');
    // The kernel may merge two pending SIGINTs into one delivery: one or two are recorded, never a kill.
    expect(stop.signals.every((s) => s === 'SIGINT') && stop.signals.length >= 1).toBe(true);
    expect(flowsIn(dir).length).toBe(1);
  });

  describe('a slow Elasticsearch (accepts connections, never answers)', () => {
    let server: Server;
    const held: Socket[] = [];
    let esPort = 0;
    afterAll(async () => {
      for (const s of held) s.destroy();
      await new Promise((r) => server?.close(r));
    });

    test('a second signal during shutdown only stops waiting for it: the documents go to the spool, none lost', async () => {
      server = createServer((s) => held.push(s));
      esPort = await new Promise<number>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r((server.address() as { port: number }).port)));
      const dir = scratch();
      const port = nextPort++;
      const p = spawnProvmon(liveArgs(dir, port, ['--es', `http://127.0.0.1:${esPort}`]));
      await p.waitFor(isPhase('capturing'), 'capture running');
      await sendUdp(port, 4);
      await Bun.sleep(300);
      p.signal('SIGTERM');
      await p.waitFor(isPhase('stopping'), 'the stop to begin');
      p.signal('SIGINT');
      expect(await p.exited).toBe(0);
      expect(p.records.some((r) => r.phase === 'stopping' && r.hurried === true)).toBe(true);
      const summary = p.summary()!;
      expect(summary.stop).toEqual({ reason: 'SIGTERM', signals: ['SIGTERM', 'SIGINT'], hurried: true });
      const output = summary.output as { written: number; dropped: number; indexed: number; spooled: number };
      expect(output.written).toBeGreaterThanOrEqual(1);
      expect(output.dropped).toBe(0);
      expect(output.indexed + output.spooled).toBe(output.written);
      const spool = join(dir, 'out', 'es-spool');
      const spooledText = readdirSync(spool).filter((f) => !f.startsWith('.')).map((f) => readFileSync(join(spool, f), 'utf8')).join('');
      expect(spooledText).toContain(`"port":${port}`);
    });
  });

  test('--duration above 2,147,483 s (the 32-bit timer limit) keeps running until stopped', async () => {
    const dir = scratch();
    const p = spawnProvmon(liveArgs(dir, nextPort++, ['--duration', '3000000']));
    await p.waitFor(isPhase('capturing'), 'capture running');
    await Bun.sleep(1_500);
    expect(p.records.find(isPhase('stopping'))).toBeUndefined();
    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
    expect((p.summary()?.stop as { reason: string }).reason).toBe('SIGTERM');
  });
});
