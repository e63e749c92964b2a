/**
 * Makes narrative-capture.jsonl, the committed capture the narrative route tests read: the REAL sensor (root,
 * eBPF) records a shell that fetches a page with curl (a bearer token and URL user info on its command line) and
 * then runs a python client that sends /etc/hostname to a one-shot loopback listener with `--password` and
 * `--token=` arguments. Only the documents of that shell's process tree are kept (the rest of the machine's
 * activity during the capture is not the test's business and may hold anything).
 *
 *   sudo bun run sensor/src/ui/testdata/make-narrative-capture.ts
 *
 * The secrets below are made up for the test; the test checks none of them reaches a model endpoint.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsEvent } from '../../../../kibana-plugin/common/ecs.ts';
import { ENV } from '../../../../test/support/attack-scenario.ts';
import { HTTP_SERVER_PY, LISTENER_PY, readFirstLine, within } from '../../../../test/support/scenario.ts';
import { startSensor } from '../../../../test/support/sensor.ts';

export const CAPTURE_FILE = join(import.meta.dir, 'narrative-capture.jsonl');
/** what the capture's command lines carry, and what must never leave the host */
export const CAPTURE_SECRETS = ['s3cretpw', 'sk-live-narrative-0123', 'hunter2', 'tok-narrative-abc'] as const;
const MARK = 'provmon-narrative-scenario';

/** The point of interest the tests trace backward from: the listener the python client sent to. */
export function capturePoi(): string {
  const python = readFileSync(CAPTURE_FILE, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EcsEvent)
    .find((e) => e.event.action === 'connection_attempted' && e.process?.name === 'python3' && e.destination?.ip);
  if (!python) throw new Error(`${CAPTURE_FILE} holds no connection of the python client: run this script again`);
  return `ip:${python.destination!.ip}:${python.destination!.port}`;
}

const CLIENT_PY = 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(open("/etc/hostname","rb").read()); s.close()';

async function main(): Promise<void> {
  const listener = Bun.spawn(['/usr/bin/python3', '-c', LISTENER_PY], { stdout: 'pipe', stderr: 'ignore', env: ENV });
  const http = Bun.spawn(['/usr/bin/python3', '-c', HTTP_SERVER_PY, '/usr/share/doc'], { stdout: 'pipe', stderr: 'ignore', env: ENV });
  try {
    const listenerPort = Number(await within(readFirstLine(listener), 20_000, ''));
    const httpPort = Number(await within(readFirstLine(http), 20_000, ''));
    const sensor = await startSensor({ args: ['--duration', '60'] });
    const script = [
      `: ${MARK}`,
      `curl -s -o /dev/null -H 'Authorization: Bearer sk-live-narrative-0123' http://bob:s3cretpw@127.0.0.1:${httpPort}/`,
      `/usr/bin/python3 -c '${CLIENT_PY}' ${listenerPort} --password hunter2 --token=tok-narrative-abc`,
    ].join('\n');
    const shell = Bun.spawn(['bash', '-c', script], { env: ENV, stdout: 'ignore', stderr: 'ignore' });
    const code = await within(shell.exited, 20_000, 'timeout');
    await within(listener.exited, 10_000, undefined);
    await Bun.sleep(300);
    await sensor.stop();
    if (code !== 0) throw new Error(`the scenario ended with ${code}`);
    const events = sensor.events();
    const tree = new Set<number>([shell.pid]);
    // Children appear after their parent in time order; one pass in that order finds the whole tree.
    for (const e of [...events].sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']))) {
      const ppid = e.process?.parent?.pid;
      if (e.process?.pid !== undefined && ppid !== undefined && tree.has(ppid)) tree.add(e.process.pid);
    }
    const kept = events.filter((e: EcsEvent) => e.process?.pid !== undefined && tree.has(e.process.pid));
    if (!kept.some((e) => e.destination?.port === listenerPort)) throw new Error('the capture lacks the connection to the listener');
    writeFileSync(CAPTURE_FILE, kept.map((e) => JSON.stringify(e)).join('\n') + '\n');
    process.stdout.write(`${kept.length} documents of ${tree.size} processes (listener port ${listenerPort}) written to ${CAPTURE_FILE}\n`);
  } finally {
    listener.kill('SIGKILL');
    http.kill('SIGKILL');
  }
}

if (import.meta.main) await main();
