/**
 * The sensor against strace on the same workload (needs root and this kernel's BPF): every exec, open, unlink,
 * connect and accept that strace sees must appear as an ECS document with the right path, args, ports and outcome.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { startSensor, type SensorSummary } from '../../../test/support/sensor.ts';

interface StraceCall {
  pid: number;
  name: string;
  args: string;
  ret: number;
  errno?: string;
}

/** One call per line: strace -ff writes a file per process, so calls are never split across lines. */
export function parseStrace(dir: string, prefix: string): StraceCall[] {
  const calls: StraceCall[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${prefix}.`))) {
    const pid = Number(file.slice(prefix.length + 1));
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const m = /^(\w+)\((.*)\)\s+=\s+(-?\d+)(?:\s+(E[A-Z0-9]+))?/.exec(line);
      if (m) calls.push({ pid, name: m[1]!, args: m[2]!, ret: Number(m[3]), ...(m[4] ? { errno: m[4] } : {}) });
    }
  }
  return calls;
}

const stringArgs = (args: string) => [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]!}"`) as string);

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('sensor versus strace on the same workload (root, kernel BPF)', () => {
  let work: string;
  let events: EcsEvent[];
  let calls: StraceCall[];
  let summary: SensorSummary;
  let sensorPid: number;
  let listenerPort: number;
  let closedPort: number;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'provmon-strace-'));
    chmodSync(work, 0o755);
    writeFileSync(join(work, 'secret.txt'), 'not for you\n');
    // A one-shot TCP server the workload connects to, and a port nobody listens on.
    const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {}, open(s) { s.end(); } } });
    listenerPort = server.port;
    const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    closedPort = probe.port;
    probe.stop(true);
    const script = [
      `cat ${work}/secret.txt > ${work}/copy.txt`,
      `sh -c 'sh -c "ls ${work} > /dev/null"'`,
      `rm ${work}/copy.txt`,
      `mv ${work}/secret.txt ${work}/moved.txt`,
      `/usr/bin/python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${listenerPort})); s.close()"`,
      // Blocking, so the refusal is the connect's own return value (a timeout would make it EINPROGRESS).
      `/usr/bin/python3 -c "import socket; s=socket.socket()
try: s.connect(('127.0.0.1', ${closedPort}))
except OSError: pass"`,
      `/usr/bin/python3 -c "import socket; l=socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1); p=l.getsockname()[1]; c=socket.create_connection(('127.0.0.1', p)); a,_=l.accept(); a.close(); c.close()"`,
    ].join('\n');
    writeFileSync(join(work, 'workload.sh'), `${script}\n`);
    const sensor = await startSensor();
    sensorPid = sensor.pid;
    const strace = Bun.spawnSync(
      ['strace', '-ff', '-qq', '-s', '4096', '-e', 'trace=execve,openat,unlink,unlinkat,rename,renameat2,connect,accept,accept4', '-o', join(work, 'trace'), 'sh', join(work, 'workload.sh')],
      { cwd: work },
    );
    if (strace.exitCode !== 0) throw new Error(`workload failed: ${strace.stderr.toString()}`);
    summary = await sensor.stop();
    server.stop(true);
    events = sensor.events();
    calls = parseStrace(work, 'trace');
  });

  afterAll(() => undefined);

  const byPid = (pid: number) => events.filter((e) => e.process?.pid === pid);

  test('every successful exec strace saw is an exec event with the executable and args', () => {
    const execs = calls.filter((c) => c.name === 'execve' && c.ret === 0);
    expect(execs.length).toBeGreaterThanOrEqual(8);
    for (const call of execs) {
      const [path, ...rest] = stringArgs(call.args);
      const absolute = path!.startsWith('/') ? path! : join(work, path!);
      // A script's exec shows its interpreter as the executable and the script in provmon.exec.filename.
      const found = byPid(call.pid).find(
        (e) =>
          e.event.action === 'exec' &&
          e.event.outcome === 'success' &&
          (e.process?.executable === realpathSync(absolute) || (e.provmon?.exec as { filename?: string } | undefined)?.filename === absolute),
      );
      expect(found, `exec of ${path} by ${call.pid}`).toBeDefined();
      expect(found!.process!.args!.slice(0, rest.length)).toEqual(rest.slice(0, found!.process!.args!.length));
    }
  });

  test('every open strace saw (outside the filtered prefixes) is an open event with its absolute path and outcome', () => {
    const hidden = ['/proc', '/sys', '/usr/lib', '/lib', '/dev/null'];
    const opens = calls.filter((c) => c.name === 'openat');
    let checked = 0;
    for (const call of opens) {
      const path = stringArgs(call.args)[0]!;
      const absolute = path.startsWith('/') ? path : join(work, path);
      if (hidden.some((h) => absolute === h || absolute.startsWith(`${h}/`) || (h.endsWith('lib') && absolute.startsWith(h)))) continue;
      const found = byPid(call.pid).find(
        (e) => (e.event.action === 'open' || e.event.action === 'creation') && e.file?.path === absolute && (e.event.outcome === 'failure') === call.ret < 0,
      );
      expect(found, `open of ${absolute} by ${call.pid} (ret ${call.ret})`).toBeDefined();
      if (call.errno) expect(found!.error?.code).toBe(call.errno);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  test('unlink and rename appear with their paths', () => {
    const deletion = events.find((e) => e.event.action === 'deletion' && e.file?.path === join(work, 'copy.txt'));
    expect(deletion?.event.outcome).toBe('success');
    const rename = events.find((e) => e.event.action === 'rename' && e.file?.path === join(work, 'moved.txt'));
    expect(rename?.provmon?.file?.source_path).toBe(join(work, 'secret.txt'));
    const straceUnlinks = calls.filter((c) => c.name.startsWith('unlink') && c.ret === 0);
    expect(straceUnlinks.length).toBe(1);
    expect(deletion!.process!.pid).toBe(straceUnlinks[0]!.pid);
  });

  test('connects appear with the peer port and the outcome strace saw; accepts with the peer', () => {
    const connects = calls.filter((c) => c.name === 'connect' && /sin_port=htons\((\d+)\)/.test(c.args));
    expect(connects.length).toBeGreaterThanOrEqual(3);
    for (const call of connects) {
      const port = Number(/sin_port=htons\((\d+)\)/.exec(call.args)![1]);
      const found = byPid(call.pid).find((e) => e.event.action === 'connection_attempted' && e.destination?.port === port);
      expect(found, `connect to ${port} by ${call.pid}`).toBeDefined();
      expect(found!.destination!.ip).toBe('127.0.0.1');
      if (call.ret === 0) expect(found!.event.outcome).toBe('success');
      else expect(found!.error?.code).toBe(call.errno!);
    }
    const refused = events.find((e) => e.event.action === 'connection_attempted' && e.destination?.port === closedPort);
    expect(refused?.error?.code).toBe('ECONNREFUSED');
    const accepts = calls.filter((c) => c.name.startsWith('accept') && c.ret >= 0);
    expect(accepts.length).toBe(1);
    const accepted = byPid(accepts[0]!.pid).find((e) => e.event.action === 'connection_accepted');
    expect(accepted?.source?.ip).toBe('127.0.0.1');
    expect(accepted?.destination?.port).toBeGreaterThan(0);
  });

  test("parent entity ids chain through sh -c 'sh -c …'", () => {
    const ls = events.find((e) => e.event.action === 'exec' && e.process?.executable === realpathSync('/usr/bin/ls'))!;
    expect(ls).toBeDefined();
    const chain: string[] = [];
    let current: EcsEvent | undefined = ls;
    for (let hop = 0; hop < 4 && current; hop++) {
      chain.push(current.process!.executable!);
      const parentId: string | undefined = current.process!.parent?.entity_id;
      current = events.find((e) => e.process?.entity_id === parentId && (e.event.action === 'exec' || e.event.action === 'already_running'));
    }
    // ls ← sh (inner) ← sh (outer) ← sh workload.sh
    expect(chain.slice(0, 3)).toEqual([realpathSync('/usr/bin/ls'), realpathSync('/bin/sh'), realpathSync('/bin/sh')]);
  });

  test("none of the sensor's own activity appears", () => {
    expect(events.filter((e) => e.process?.pid === sensorPid && e.event.action !== 'already_running')).toEqual([]);
  });

  test('aggregated reads and writes name the file: cat read the secret and wrote the copy', () => {
    const cat = calls.find((c) => c.name === 'execve' && c.ret === 0 && stringArgs(c.args)[0]!.endsWith('/cat'))!;
    const reads = byPid(cat.pid).filter((e) => e.event.action === 'read' && e.file?.path === join(work, 'secret.txt'));
    expect(reads.reduce((n, e) => n + (e.provmon?.io?.bytes ?? 0), 0)).toBe('not for you\n'.length);
    const writes = events.filter((e) => e.event.action === 'write' && e.file?.path === join(work, 'copy.txt'));
    expect(writes.reduce((n, e) => n + (e.provmon?.io?.bytes ?? 0), 0)).toBe('not for you\n'.length);
  });

  test('no loss: the kernel produced exactly what the sensor received', () => {
    expect(summary.kernelDropped).toBe(0);
    expect(summary.produced).toBe(summary.records);
  });
});
