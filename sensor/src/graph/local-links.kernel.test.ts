/**
 * Local links under the real sensor (root, eBPF), loopback only, traced by `provmon graph` on what it captured:
 *
 *   `curl -s http://127.0.0.1:<http>/s.sh | sh`: the script connects to a listener started by the test. Backward
 *   from the listener's endpoint, the trace must go through the pipe (sh read what curl wrote) to curl and the
 *   endpoint it downloaded from.
 *
 *   A server accepts a loopback connection and writes what it received to a file: backward from that file, the
 *   trace must reach the client process that connected (connect and accept stitched into one connection).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProvenanceGraph } from '../../../kibana-plugin/common/graph/index.ts';
import { HTTP_SERVER_PY, LISTENER_PY, readFirstLine, within } from '../../../test/support/scenario.ts';
import { startSensor } from '../../../test/support/sensor.ts';

const ROOT = resolve(import.meta.dir, '../../..');
const isRoot = process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROVMON_'))), PROVMON_CONFIG: '' };

/** Accepts one loopback connection and writes what it received into argv[1]. */
const RECEIVER_PY = `
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(30)
c, _ = s.accept(); data = c.recv(1024); c.close()
with open(sys.argv[1], "wb") as f:
    f.write(data)
`;

function graph(args: string[]): ProvenanceGraph {
  const r = Bun.spawnSync([resolve(ROOT, 'bin/provmon'), 'graph', ...args], { cwd: ROOT, env: ENV });
  if (r.exitCode !== 0) throw new Error(`provmon graph ${args.join(' ')} exited ${r.exitCode}:\n${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as ProvenanceGraph;
}

function spawnReady(cmd: string[], cwd: string) {
  const proc = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'ignore', env: ENV });
  return { proc, firstLine: within(readFirstLine(proc), 20_000, '') };
}

describe.skipIf(!isRoot)('local links under the real sensor, traced by provmon graph (root, kernel BPF)', () => {
  const cleanup: string[] = [];
  const children: ReturnType<typeof Bun.spawn>[] = [];
  let eventsDir: string;
  let listenerPort: number;
  let httpPort: number;
  let received: string;

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'provmon-links-'));
    cleanup.push(work);
    mkdirSync(join(work, 'srv'));
    const listener = spawnReady(['python3', '-c', LISTENER_PY], work);
    const http = spawnReady(['python3', '-c', HTTP_SERVER_PY, join(work, 'srv')], work);
    children.push(listener.proc, http.proc);
    listenerPort = Number(await listener.firstLine);
    httpPort = Number(await http.firstLine);
    writeFileSync(join(work, 'srv', 's.sh'), `python3 -c "import socket; s = socket.create_connection(('127.0.0.1', ${listenerPort})); s.sendall(b'from the piped script')"\n`);
    received = join(work, 'received.txt');
    const server = spawnReady(['python3', '-c', RECEIVER_PY, received], work);
    children.push(server.proc);
    const serverPort = Number(await server.firstLine);
    const sensor = await startSensor({ args: ['--duration', '60'] });
    eventsDir = sensor.eventsDir;
    cleanup.push(eventsDir);
    const run = Bun.spawn(['bash', '-c', `curl -s http://127.0.0.1:${httpPort}/s.sh | sh`], { cwd: work, env: ENV, stdout: 'ignore', stderr: 'ignore' });
    expect(await within(run.exited, 20_000, 'timeout')).toBe(0);
    const client = Bun.spawn(['python3', '-c', `import socket; s = socket.create_connection(('127.0.0.1', ${serverPort})); s.sendall(b'from the client'); s.close()`], { env: ENV });
    expect(await within(client.exited, 20_000, 'timeout')).toBe(0);
    expect(await within(server.proc.exited, 20_000, 'timeout')).toBe(0);
    await Bun.sleep(300); // the last close/exit records reach the ring buffer
    const summary = await sensor.stop();
    expect({ lost: summary.kernelLost, dropped: summary.kernelDropped }).toEqual({ lost: 0, dropped: 0 });
  }, 90_000);

  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGKILL');
      await c.exited;
    }
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  test('curl | sh: backward from the listener reaches curl and the download endpoint through the pipe', () => {
    const g = graph(['--events-dir', eventsDir, '--poi', `ip:127.0.0.1:${listenerPort}`, '--no-reduce']);
    const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
    const pipe = g.nodes.find((n) => n.kind === 'channel' && n.channel === 'pipe' && g.edges.some((e) => e.kind === 'write' && e.target === n.id && byId.get(e.source)?.executable === '/usr/bin/curl'));
    expect(pipe).toBeDefined();
    const read = g.edges.find((e) => e.kind === 'read' && e.source === pipe!.id);
    expect(byId.get(read!.target)?.executable).toBe('/usr/bin/dash');
    const curl = g.nodes.find((n) => n.executable === '/usr/bin/curl')!;
    const download = g.nodes.find((n) => n.kind === 'endpoint' && n.ip === '127.0.0.1' && n.port === httpPort);
    expect(download).toBeDefined();
    expect(g.edges.some((e) => e.kind === 'connect' && e.source === curl.id && e.target === download!.id)).toBe(true);
    const write = g.edges.find((e) => e.kind === 'write' && e.target === pipe!.id)!;
    expect(write.first <= read!.last).toBe(true);
  });

  test('a server that accepted a loopback connection wrote a file: backward from the file reaches the client', () => {
    for (const reduce of [[], ['--no-reduce']]) {
      const g = graph(['--events-dir', eventsDir, '--poi', `file:${received}`, ...reduce]);
      const byId = new Map(g.nodes.map((n) => [n.id, n] as const));
      const stitch = g.edges.find((e) => e.stitched);
      expect(stitch).toBeDefined();
      const client = byId.get(stitch!.source)!;
      const server = byId.get(stitch!.target)!;
      expect(client.args?.join(' ')).toContain('from the client');
      expect(server.args?.join(' ')).toContain('received.txt');
      expect(g.edges.some((e) => e.kind === 'write' && e.source === server.id && byId.get(e.target)?.path === received)).toBe(true);
    }
  });
});
