/**
 * `provmon analyze` on files real tools wrote: a private auditd (Debian's, ruleset of docs/audit.md) records a
 * scenario while libpcap captures the loopback; then the CLI analyses both files into a local store and
 * `provmon graph` reads the case. Needs root, the kernel audit subsystem and no other audit daemon running.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { PcapHandle } from '../pcap/libpcap.ts';
import { type OutPacket, writePcap } from '../pcap/testdata/write-capture.ts';
import { AuditSession } from './testdata/audit-session.ts';

const UID = 47114;
const root = resolve(import.meta.dir, '../../..');
const provmon = join(root, 'bin', 'provmon');
const base = 20000 + Math.floor(Math.random() * 20000);
const HTTP = base;
const ECHO = base + 1;
const INBOUND = base + 2;
const UDP = base + 3;

const dir = mkdtempSync(join(tmpdir(), 'provmon-analyze-'));
chmodSync(dir, 0o755);
/** the test user runs Debian's own tools: a root-only PATH (pyenv shims in /root) would not be executable for it */
const userEnv = { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C.UTF-8' };
const asUser = ['setpriv', `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--inh-caps=-all'];
let session: AuditSession | undefined;
const servers: ReturnType<typeof Bun.spawn>[] = [];
let summary: {
  correlation: { flows: number; attributed: number; by_method: Record<string, number> };
  unattributed: unknown[];
  audit: { stats: { conversion: { documents: number } } };
};
let flows: EcsEvent[] = [];
let events: EcsEvent[] = [];
const caseDir = join(dir, 'case');

function jsonl(prefix: string): EcsEvent[] {
  return readdirSync(caseDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(caseDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EcsEvent));
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        done(true);
      });
      s.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  writeFileSync(join(dir, 'blob.bin'), new Uint8Array(200_000).fill(7));
  // one listener that answers every connection (the python client's and the test's own inbound one)
  writeFileSync(
    join(dir, 'listener.py'),
    `import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    data = c.recv(65536)
    c.sendall(b'ack:' + data[:16]); c.close()
`,
  );
  writeFileSync(
    join(dir, 'client.py'),
    `import socket, sys
c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
c.sendall(b'hello from the python client'); c.recv(100); c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b'one datagram', ('127.0.0.1', int(sys.argv[2])))
`,
  );
  for (const f of ['listener.py', 'client.py', 'blob.bin']) chmodSync(join(dir, f), 0o644);

  session = new AuditSession(dir, UID);
  await session.start();
  servers.push(Bun.spawn([...asUser, '/usr/bin/python3', '-m', 'http.server', String(HTTP), '--bind', '127.0.0.1', '--directory', dir], { cwd: dir, env: userEnv, stdout: 'ignore', stderr: 'ignore' }));
  servers.push(Bun.spawn([...asUser, '/usr/bin/python3', join(dir, 'listener.py'), String(ECHO)], { cwd: dir, env: userEnv, stdout: 'ignore', stderr: 'ignore' }));
  servers.push(Bun.spawn([...asUser, '/usr/bin/python3', join(dir, 'listener.py'), String(INBOUND)], { cwd: dir, env: userEnv, stdout: 'ignore', stderr: 'ignore' }));
  await waitForPort(HTTP);
  await waitForPort(ECHO);
  await waitForPort(INBOUND);

  const handle = PcapHandle.openLive({ interface: 'lo', filter: `tcp port ${HTTP} or tcp port ${ECHO} or tcp port ${INBOUND} or udp port ${UDP}`, immediate: true, snapLen: 4096 });
  const packets: OutPacket[] = [];
  const ac = new AbortController();
  const capturing = handle.run((rec) => packets.push({ data: rec.data.slice(rec.offset, rec.offset + rec.capLen), wireLen: rec.wireLen, tsSec: rec.tsSec, tsNsec: rec.tsNsec }), { signal: ac.signal });
  try {
    await Bun.sleep(200);
    // the scenario: a shell runs curl and a python client (exec chain sh → curl, sh → python3)
    const scenario = Bun.spawn([...asUser, '/bin/sh', '-c', `curl -s -o /dev/null http://127.0.0.1:${HTTP}/blob.bin; python3 ${join(dir, 'client.py')} ${ECHO} ${UDP}`], {
      cwd: dir,
      env: userEnv,
      stdout: 'ignore',
      stderr: 'pipe',
    });
    expect(await scenario.exited).toBe(0);
    // an inbound connection from a process the rules do not watch: only the listener's accept names it
    await new Promise<void>((done, fail) => {
      const s = createConnection({ host: '127.0.0.1', port: INBOUND }, () => s.write('inbound'));
      s.on('data', () => s.end());
      s.on('close', () => done());
      s.on('error', fail);
    });
    await Bun.sleep(500);
  } finally {
    ac.abort();
    await capturing;
    handle.dispatch(100_000, (rec) => packets.push({ data: rec.data.slice(rec.offset, rec.offset + rec.capLen), wireLen: rec.wireLen, tsSec: rec.tsSec, tsNsec: rec.tsNsec }));
    handle.close();
    for (const s of servers) s.kill();
    await Promise.all(servers.map((s) => s.exited));
    await session.stop();
    session = undefined;
  }
  writeFileSync(join(dir, 'lo.pcap'), writePcap(packets, { linkType: handle.linkType }));

  const run = Bun.spawnSync([provmon, 'analyze', '--pcap', join(dir, 'lo.pcap'), '--audit-log', join(dir, 'audit', 'audit.log'), '--events-dir', caseDir, '--json', '--log-level', 'warn'], { cwd: root });
  if (run.exitCode !== 0) throw new Error(`provmon analyze failed: ${run.stderr.toString()}`);
  summary = JSON.parse(run.stdout.toString());
  flows = jsonl('pcap-flows');
  events = jsonl('forensic-events');
}, 120_000);

afterAll(async () => {
  for (const s of servers) s.kill();
  await session?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const flowTo = (port: number) => flows.filter((f) => f.destination?.port === port && f.network?.transport !== undefined);
const attribution = (f: EcsEvent) => f.provmon?.attribution as { method: string; confidence: number; evidence: { event_id: string } };

describe('provmon analyze on a real auditd log and a real loopback capture', () => {
  test('the curl download belongs to curl, through its connect, and the HTTP server is the responder', () => {
    const [flow] = flowTo(HTTP).filter((f) => (f.destination?.bytes ?? 0) > 100_000 || (f.source?.bytes ?? 0) > 0);
    expect(flow).toBeDefined();
    expect(flow!.process!.executable).toBe('/usr/bin/curl');
    expect(attribution(flow!).method).toBe('connect_destination');
    expect(attribution(flow!).confidence).toBeGreaterThanOrEqual(0.9);
    const responder = flow!.provmon!.responder_process as { executable: string; entity_id: string };
    expect(responder.executable).toMatch(/python3/);
    const curlConnect = events.find((e) => e.event.id === attribution(flow!).evidence.event_id)!;
    expect(curlConnect.event.action).toBe('connection_attempted');
    expect(curlConnect.process!.entity_id).toBe(flow!.process!.entity_id);
  });

  test('the python socket client owns its TCP flow and its UDP datagram', () => {
    const [tcp] = flowTo(ECHO);
    expect(tcp!.process!.executable).toMatch(/python3/);
    expect(tcp!.process!.args).toContain(join(dir, 'client.py'));
    expect(attribution(tcp!).method).toBe('connect_destination');
    const [udp] = flowTo(UDP).filter((f) => f.network?.transport === 'udp');
    expect(udp!.process!.entity_id).toBe(tcp!.process!.entity_id);
    expect(attribution(udp!).method).toBe('sendto_destination');
  });

  test("an inbound connection from an unwatched process belongs to the listener, through its accept of that peer port", () => {
    const [flow] = flowTo(INBOUND);
    expect(flow!.process!.args).toEqual(['/usr/bin/python3', join(dir, 'listener.py'), String(INBOUND)]);
    expect(attribution(flow!).method).toBe('accept_peer');
    const accept = events.find((e) => e.event.id === attribution(flow!).evidence.event_id)!;
    expect(accept.event.action).toBe('connection_accepted');
    expect(accept.source).toEqual({ ip: '127.0.0.1', port: flow!.source!.port! });
  });

  test('every flow of the scenario is attributed; the summary counts agree with the store', () => {
    const scenario = flows.filter((f) => [HTTP, ECHO, INBOUND, UDP].includes(f.destination?.port ?? 0));
    expect(scenario.length).toBeGreaterThanOrEqual(4);
    for (const f of scenario) expect(f.process?.entity_id).toBeTruthy();
    expect(summary.correlation.flows).toBe(new Set(flows.map((f) => (f.provmon!.flow as unknown as { id: string }).id)).size);
    expect(summary.audit.stats.conversion.documents).toBe(events.length);
  });

  test('provmon graph over the case shows the exec chain sh → curl → its connection', () => {
    const curl = flowTo(HTTP)[0]!.process!.entity_id;
    const r = Bun.spawnSync([provmon, 'graph', '--events-dir', caseDir, '--poi', `process:${curl}`, '--direction', 'both', '--log-level', 'warn'], { cwd: root });
    expect(r.stderr.toString()).toBe('');
    const graph = JSON.parse(r.stdout.toString()) as { nodes: { id: string; kind: string; label?: string; executable?: string }[]; edges: { kind: string; source: string; target: string }[] };
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    // the spawn of curl itself (the graph may also hold the shell whose command line names curl, and, joined through
    // the loopback connection, the test process that served it)
    const spawn = graph.edges.find((e) => e.kind === 'spawn' && /\/curl$/.test(byId.get(e.target)?.executable ?? ''));
    expect(spawn).toBeDefined();
    expect(JSON.stringify(byId.get(spawn!.source))).toMatch(/dash|\/sh/);
    expect(graph.edges.some((e) => e.kind === 'connect' && JSON.stringify(byId.get(e.source)).includes('curl'))).toBe(true);
  });
});
