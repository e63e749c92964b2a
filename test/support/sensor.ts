/**
 * Runs the real sensor (`bin/provmon run`) as a subprocess for integration tests: waits until the eBPF programs are
 * attached, and on stop() sends SIGTERM (the sensor flushes kernel aggregates and files) and reads what it wrote.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../kibana-plugin/common/ecs.ts';

const PROVMON = resolve(import.meta.dir, '../../bin/provmon');

import type { SensorSummary } from '../../sensor/src/run/sensor.ts';

export type { SensorSummary };

export interface RunningSensor {
  pid: number;
  eventsDir: string;
  /** SIGTERM, wait for the graceful stop, return the summary the sensor logged. */
  stop(): Promise<SensorSummary>;
  /** Documents of forensic-events (rotated files included, oldest first), or of another stream (after stop). */
  events(file?: 'forensic-events' | 'pcap-flows' | 'dns'): EcsEvent[];
  logLines(): string[];
}

/** The run's structured phase field (starting, capturing, stopping, stopped) of one JSON log line. */
function isPhase(line: string, phase: string): boolean {
  try {
    return (JSON.parse(line) as { phase?: unknown }).phase === phase;
  } catch {
    return false;
  }
}

export async function startSensor(options: { args?: string[]; eventsDir?: string; timeoutMs?: number; pcapInterface?: string } = {}): Promise<RunningSensor> {
  const eventsDir = options.eventsDir ?? mkdtempSync(join(tmpdir(), 'provmon-sensor-'));
  const capture = options.pcapInterface ? ['--interface', options.pcapInterface] : ['--no-pcap'];
  const child = Bun.spawn([PROVMON, 'run', ...capture, '--events-dir', eventsDir, '--log-format', 'json', ...(options.args ?? [])], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: eventsDir,
  });
  const lines: string[] = [];
  const decoder = new TextDecoder();
  let attached: () => void = () => {};
  let failed: (e: Error) => void = () => {};
  const ready = new Promise<void>((res, rej) => ((attached = res), (failed = rej)));
  void (async () => {
    let buffer = '';
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk);
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (isPhase(line, 'capturing')) attached();
      }
    }
    if (buffer) lines.push(buffer);
  })();
  void child.exited.then((code) => failed(new Error(`sensor exited with ${code} before attaching:\n${lines.join('\n')}`)));
  const timeout = setTimeout(() => failed(new Error(`sensor did not attach in time:\n${lines.join('\n')}`)), options.timeoutMs ?? 60_000);
  try {
    await ready;
  } finally {
    clearTimeout(timeout);
  }
  return {
    pid: child.pid,
    eventsDir,
    async stop() {
      child.kill('SIGTERM');
      const code = await child.exited;
      await Bun.sleep(50); // let the stderr reader take the last lines
      const summaryLine = lines.find((l) => isPhase(l, 'stopped'));
      if (code !== 0 || !summaryLine) throw new Error(`sensor ended with ${code}:\n${lines.slice(-30).join('\n')}`);
      return JSON.parse(summaryLine) as SensorSummary;
    },
    events(file = 'forensic-events') {
      // rotated files first (forensic-events.<id>.jsonl, oldest id first), then the live one
      const rotated = readdirSync(eventsDir)
        .map((name) => new RegExp(`^${file}\\.(\\d+)\\.jsonl$`).exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((m) => m[0]);
      return [...rotated, `${file}.jsonl`].flatMap((name) =>
        readFileSync(join(eventsDir, name), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as EcsEvent),
      );
    },
    logLines: () => lines,
  };
}
