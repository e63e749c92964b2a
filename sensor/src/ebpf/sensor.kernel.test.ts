/**
 * The eBPF sensor against the real kernel: load, attach, run real workloads and check the
 * records. Needs root and a BTF kernel (CI runs as root); skipped otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSensor, type BpfSensor } from './loader.ts';
import { DEFAULT_PATH_PREFIXES } from './filters.ts';
import { Flag, errnoName, type ExecRecord, type ExitRecord, type FileRecord, type ForkRecord, type IoRecord, type NetRecord, type PmRecord, type SetidRecord } from './records.ts';
import { Collector, Launcher, buildHelper, canRunKernelTests, freePort, tempDir } from './testdata/harness.ts';

const isExec = (r: PmRecord): r is ExecRecord => r.kind === 'execve' || r.kind === 'execveat';
const isFile = (r: PmRecord): r is FileRecord => 'path' in r;
const isIo = (r: PmRecord): r is IoRecord => r.kind === 'close' || r.kind === 'io';
const isNet = (r: PmRecord): r is NetRecord => 'remotePort' in r;

describe.skipIf(!canRunKernelTests)('eBPF sensor (real kernel)', () => {
  let sensor: BpfSensor;
  let launcher: Launcher;
  let col: Collector;
  let dir: string;
  let helper: string;

  beforeAll(() => {
    dir = tempDir('ebpf');
    helper = buildHelper(dir);
    launcher = new Launcher(); // forked before the sensor knows our tgid: its children are captured
    sensor = loadSensor({ filters: { ownTgids: [process.pid] } });
    col = new Collector(sensor);
  });

  afterAll(() => {
    col?.stop();
    launcher?.close();
    sensor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('loads and attaches every program on this kernel', () => {
    expect(sensor.programCount).toBeGreaterThanOrEqual(80);
    expect(sensor.unavailable).toEqual([]);
    const s = sensor.stats();
    expect(s.dropped).toBe(0);
  });

  test('sh -c workload: exec, fork chain, open, unlink, exit code, aggregated output', async () => {
    const target = join(dir, 'hostname-copy');
    const script = `cat /etc/hostname > ${target}; rm ${target}; exit 3`;
    const r = await launcher.run(`/bin/sh -c '${script}'`);
    expect(r.code).toBe(3);

    const sh = await col.waitFor((x): x is ExecRecord => isExec(x) && x.argv[2] === script && x.ret === 0);
    expect(sh.filename).toBe('/bin/sh');
    expect(sh.argv).toEqual(['/bin/sh', '-c', script]);
    expect(sh.exe).toBe(readlinkReal('/bin/sh'));
    expect(sh.ppid).toBe(launcher.pid);
    expect(sh.comm).toBe('sh');

    const cat = await col.waitFor((x): x is ExecRecord => isExec(x) && x.ret === 0 && x.ppid === sh.tgid && x.argv[0] === 'cat');
    expect(cat.argv).toEqual(['cat', '/etc/hostname']);
    expect(cat.exe).toBe(readlinkReal('/usr/bin/cat'));
    expect(cat.startNs).toBeGreaterThan(0);

    // fork records chain launcher -> sh -> cat, with the child's start time
    const forkSh = await col.waitFor((x): x is ForkRecord => x.kind === 'fork' && x.childTgid === sh.tgid);
    expect(forkSh.tgid).toBe(launcher.pid);
    expect(forkSh.childStartNs).toBe(sh.startNs);
    const forkCat = await col.waitFor((x): x is ForkRecord => x.kind === 'fork' && x.childTgid === cat.tgid);
    expect(forkCat.tgid).toBe(sh.tgid);

    const open = await col.waitFor((x): x is FileRecord => isFile(x) && x.kind === 'openat' && x.path === target);
    expect(open.tgid).toBe(sh.tgid); // the shell opens the redirection target
    expect(open.ret).toBeGreaterThanOrEqual(0);
    expect(open.flags & 0o1101).toBe(0o1101); // O_WRONLY|O_CREAT|O_TRUNC
    expect(open.recordFlags & Flag.CREATED).toBe(Flag.CREATED); // the file did not exist

    const catOpen = await col.waitFor((x): x is FileRecord => isFile(x) && x.tgid === cat.tgid && x.path === '/etc/hostname');
    expect(catOpen.ret).toBeGreaterThanOrEqual(0);

    const unlink = await col.waitFor((x): x is FileRecord => isFile(x) && x.kind === 'unlinkat' && x.path === target);
    expect(unlink.ret).toBe(0);
    expect(unlink.comm).toBe('rm');

    // cat's bytes to stdout (the redirected file) arrive as one aggregate on fd 1
    const size = readFileSync('/etc/hostname').length;
    const out = await col.waitFor((x): x is IoRecord => isIo(x) && x.tgid === cat.tgid && x.fd === 1 && x.wrCalls > 0);
    expect(out.wrBytes).toBe(size);

    const exit = await col.waitFor((x): x is ExitRecord => x.kind === 'exit' && x.tgid === sh.tgid);
    expect(exit.exitCode).toBe(3);
    expect(exit.signal).toBe(0);
    const catExit = await col.waitFor((x): x is ExitRecord => x.kind === 'exit' && x.tgid === cat.tgid);
    expect(catExit.exitCode).toBe(0);
  });

  test('failed exec and killed process are reported with errno / signal', async () => {
    await launcher.run(`/bin/sh -c '/nonexistent/provmon-no-such-binary; kill -9 $$'`);
    const failed = await col.waitFor((x): x is ExecRecord => isExec(x) && x.filename === '/nonexistent/provmon-no-such-binary');
    expect(errnoName(failed.ret)).toBe('ENOENT');
    expect(failed.exe).toBeNull();
    const sh = await col.waitFor((x): x is ExecRecord => isExec(x) && x.argv[2]?.includes('provmon-no-such-binary') === true && x.ret === 0);
    const exit = await col.waitFor((x): x is ExitRecord => x.kind === 'exit' && x.tgid === sh.tgid);
    expect(exit.signal).toBe(9);
  });

  test('1000 writes become one aggregate with count 1000 on close', async () => {
    const target = join(dir, 'writes');
    expect((await launcher.run(`${helper} writes ${target} 1000`)).code).toBe(0);
    const exec = await col.waitFor((x): x is ExecRecord => isExec(x) && x.argv[2] === target);
    const open = await col.waitFor((x): x is FileRecord => isFile(x) && x.tgid === exec.tgid && x.path === target);
    expect(open.recordFlags & Flag.CREATED).toBe(Flag.CREATED);
    const close = await col.waitFor((x): x is IoRecord => x.kind === 'close' && x.tgid === exec.tgid && x.fd === open.ret && x.tsNs > open.tsNs);
    expect(close.wrCalls).toBe(1000);
    expect(close.wrBytes).toBe(1000);
    expect(close.rdCalls).toBe(0);
    expect(close.wrLastNs).toBeGreaterThanOrEqual(close.wrFirstNs);
    expect(close.wrFirstNs).toBeGreaterThan(open.tsNs - 1);
    // the same O_CREAT open on the now existing file does not create it
    await launcher.run(`${helper} writes ${target} 1`);
    const again = await col.waitFor((x): x is FileRecord => isFile(x) && x.path === target && x.tsNs > close.tsNs);
    expect(again.flags & 0o100).toBe(0o100);
    expect(again.recordFlags & Flag.CREATED).toBe(0);
    // and nothing per call: the process produced a handful of records, not 1000+
    const all = await col.settle((x) => x.tgid === exec.tgid);
    expect(all.length).toBeLessThan(40);
    expect(all.filter((x) => isIo(x) && x.fd === open.ret && x.tsNs > open.tsNs)).toHaveLength(1);
  });

  test('flush interval emits counters of an fd that stays open; exit emits the rest', async () => {
    const target = join(dir, 'flushed');
    const fifo = join(dir, 'gate');
    expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0);
    // pmhelper hold: 2 writes, block on the fifo, 1 more write, exit without close
    const pid = await launcher.spawn(`${helper} hold ${target} ${fifo}`);
    try {
      await col.waitFor((x) => isFile(x) && x.tgid === pid && x.path === target);
      await Bun.sleep(200);
      sensor.flush();
      const interval = await col.waitFor((x): x is IoRecord => x.kind === 'io' && x.tgid === pid && x.reason === 'interval');
      expect(interval.wrCalls).toBe(2);
      expect(interval.wrBytes).toBe(4);
      expect(interval.recordFlags & Flag.NO_TASK).toBe(Flag.NO_TASK);
      closeSync(openSync(fifo, 'w')); // opening the fifo's write end releases the helper
      const atExit = await col.waitFor((x): x is IoRecord => x.kind === 'io' && x.tgid === pid && x.fd === interval.fd && x.reason === 'exit');
      expect(atExit.wrCalls).toBe(1);
      expect(atExit.wrBytes).toBe(2);
    } finally {
      killQuietly(pid); // never leave the helper blocked on the fifo
    }
  });

  test("the sensor's own process and its children are invisible", async () => {
    const mine = join(dir, `own-${process.pid}`);
    writeFileSync(mine, 'x');
    readFileSync(mine);
    const child = Bun.spawnSync(['/bin/cat', mine]); // a descendant forked after load
    expect(child.exitCode).toBe(0);
    // a captured workload after it proves the ring is flowing
    await launcher.run(`${helper} open ${mine}`);
    await col.waitFor((x) => isFile(x) && x.path === mine && x.comm === 'pmhelper');
    const leaked = col.records.filter((x) => x.tgid === process.pid || x.tgid === child.pid || (isExec(x) && x.argv[1] === mine && x.argv[0] === '/bin/cat'));
    expect(leaked).toEqual([]);
  });

  test('TCP connect and accept carry addresses, ports and outcome', async () => {
    const port = freePort();
    const srv = Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } });
    try {
      expect((await launcher.run(`${helper} connect 127.0.0.1 ${port}`)).code).toBe(0);
      const c = await col.waitFor((x): x is NetRecord => x.kind === 'connect' && x.remotePort === port && x.comm === 'pmhelper');
      expect(c.remoteAddress).toBe('127.0.0.1');
      expect(c.family).toBe(2);
      expect(c.ret).toBe(0);
      expect(c.localAddress).toBe('127.0.0.1');
      expect(c.localPort).toBeGreaterThan(0);
      expect(c.protocol).toBe(6);
      const sent = await col.waitFor((x): x is IoRecord => x.kind === 'close' && x.tgid === c.tgid && x.fd === c.fd && x.tsNs > c.tsNs);
      expect(sent.wrBytes).toBe(5);
    } finally {
      srv.stop(true);
    }

    const refused = freePort();
    expect((await launcher.run(`${helper} connect 127.0.0.1 ${refused}`)).code).toBe(1);
    const bad = await col.waitFor((x): x is NetRecord => x.kind === 'connect' && x.remotePort === refused);
    expect(errnoName(bad.ret)).toBe('ECONNREFUSED');

    const sport = freePort();
    const server = await launcher.spawn(`${helper} serve 127.0.0.1 ${sport}`);
    try {
      await col.waitFor((x) => x.kind === 'listen' && x.tgid === server);
      await launcher.run(`${helper} connect 127.0.0.1 ${sport}`);
      const acc = await col.waitFor((x): x is NetRecord => x.kind === 'accept' && x.tgid === server);
      expect(acc.ret).toBeGreaterThanOrEqual(0);
      expect(acc.localPort).toBe(sport);
      expect(acc.remoteAddress).toBe('127.0.0.1');
      const conn = col.records.find((x): x is NetRecord => x.kind === 'connect' && x.remotePort === sport)!;
      expect(acc.remotePort).toBe(conn.localPort);
      const bind = col.records.find((x): x is NetRecord => x.kind === 'bind' && x.tgid === server)!;
      expect(bind.localPort).toBe(sport);
      const recv = await col.waitFor((x): x is IoRecord => x.kind === 'close' && x.tgid === server && x.fd === acc.ret && x.tsNs > acc.tsNs);
      expect(recv.rdBytes).toBe(5);
    } finally {
      killQuietly(server);
    }
  });

  test('setuid family is reported with arguments', async () => {
    await launcher.run(`${helper} setids`);
    const ex = await col.waitFor((x): x is ExecRecord => isExec(x) && x.argv[1] === 'setids');
    const res = await col.waitFor((x): x is SetidRecord => x.kind === 'setresuid' && x.tgid === ex.tgid);
    expect(res.ids).toEqual([4294967295, 4294967295, 4294967295]);
    expect(res.ret).toBe(0);
    const g = await col.waitFor((x): x is SetidRecord => x.kind === 'setgid' && x.tgid === ex.tgid);
    expect(g.ids).toEqual([0]);
  });

  test('noise = comm AND executable: a process renamed to a noise name is still captured', async () => {
    const noisy = join(dir, 'pmnoise');
    copyFileSync(helper, noisy);
    Bun.spawnSync(['chmod', '+x', noisy]);
    const fakeSshd = join(dir, 'sshd');
    symlinkSync(helper, fakeSshd);
    sensor.setFilters({ noise: [{ comm: 'sshd', exe: '/usr/sbin/sshd' }, { comm: 'pmnoise', exe: noisy }] });
    try {
      const hidden = join(dir, 'noise-hidden');
      const renamed = join(dir, 'noise-renamed');
      const viaLink = join(dir, 'noise-symlink');
      await launcher.run(`${noisy} writes ${hidden} 3`);
      await launcher.run(`${helper} rename sshd ${renamed}`);
      await launcher.run(`${fakeSshd} writes ${viaLink} 3`);

      // prctl(PR_SET_NAME, "sshd") after exec: still an ordinary process
      const created = await col.waitFor((x): x is FileRecord => isFile(x) && x.path === renamed && x.kind === 'openat');
      expect(created.comm).toBe('sshd');
      const unlinked = await col.waitFor((x): x is FileRecord => isFile(x) && x.path === renamed && x.kind === 'unlink');
      expect(unlinked.ret).toBe(0);
      // exec'd as "sshd" (comm matches) but the executable is not /usr/sbin/sshd
      const link = await col.waitFor((x): x is ExecRecord => isExec(x) && x.filename === fakeSshd);
      expect(link.comm).toBe('sshd');
      expect(link.exe).toBe(helper);
      await col.waitFor((x) => isFile(x) && x.path === viaLink);
      // the real noise rule (comm pmnoise + that exact executable) hides everything, exec included
      const leaked = await col.settle((x) => (isFile(x) && x.path === hidden) || (isExec(x) && x.filename === noisy));
      expect(leaked).toEqual([]);
    } finally {
      sensor.setFilters({ noise: [] });
    }
  });

  test('network allowlist drops exact (ip, port) only; same port on 127.0.0.2 is kept', async () => {
    const port = freePort();
    const other = freePort();
    const servers = [
      Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }),
      Bun.listen({ hostname: '127.0.0.2', port, socket: { data() {} } }),
      Bun.listen({ hostname: '127.0.0.1', port: other, socket: { data() {} } }),
      Bun.listen({ hostname: '::1', port, socket: { data() {} } }),
    ];
    sensor.setFilters({ netAllow: [{ ip: '127.0.0.1', port }, { ip: '::1', port }] });
    try {
      for (const [ip, p] of [['127.0.0.1', port], ['127.0.0.2', port], ['127.0.0.1', other], ['::1', port]] as const) {
        expect((await launcher.run(`${helper} connect ${ip} ${p}`)).code).toBe(0);
      }
      await launcher.run(`${helper} sendto 127.0.0.1 ${port} 3; ${helper} sendto 127.0.0.2 ${port} 3`);
      const kept2 = await col.waitFor((x): x is NetRecord => x.kind === 'connect' && x.remoteAddress === '127.0.0.2' && x.remotePort === port);
      expect(kept2.ret).toBe(0);
      await col.waitFor((x) => x.kind === 'connect' && x.remoteAddress === '127.0.0.1' && x.remotePort === other);
      const udp = await col.waitFor((x): x is NetRecord => x.kind === 'sendto' && x.remoteAddress === '127.0.0.2' && x.remotePort === port);
      const udpIo = await col.waitFor((x): x is IoRecord => x.kind === 'close' && x.tgid === udp.tgid && x.fd === udp.fd && x.tsNs > udp.tsNs);
      expect(udpIo.wrCalls).toBe(3); // three datagrams, one peer record (the peer never changed)
      const dropped = await col.settle(
        (x) => isNet(x) && (x.kind === 'connect' || x.kind === 'sendto') && x.remotePort === port && (x.remoteAddress === '127.0.0.1' || x.remoteAddress === '::1'),
      );
      expect(dropped).toEqual([]);
      // the allowlisted socket's traffic is muted too: no 5-byte aggregate from those helpers
      const connects = col.records.filter((x): x is ExecRecord => isExec(x) && x.argv[1] === 'connect' && x.argv[3] === String(port));
      expect(connects).toHaveLength(3);
      const mutedIo = col.records.filter(
        (x) => isIo(x) && connects.some((c) => c.tgid === x.tgid && (c.argv[2] === '127.0.0.1' || c.argv[2] === '::1')) && x.wrBytes === 5,
      );
      expect(mutedIo).toEqual([]);
    } finally {
      sensor.setFilters({ netAllow: [] });
      for (const s of servers) s.stop(true);
    }
  });

  test('a path-prefix filter hides file events but never an exec', async () => {
    const hiddenDir = join(dir, 'hidden-tree');
    mkdirSync(hiddenDir);
    const bin = join(hiddenDir, 'pmhelper');
    copyFileSync(helper, bin);
    Bun.spawnSync(['chmod', '+x', bin]);
    const file = join(hiddenDir, 'data');
    writeFileSync(file, 'data');
    sensor.setFilters({ pathPrefixes: [...DEFAULT_PATH_PREFIXES, hiddenDir] });
    try {
      await launcher.run(`${bin} open ${file}`);
      const ex = await col.waitFor((x): x is ExecRecord => isExec(x) && x.filename === bin);
      expect(ex.exe).toBe(bin);
      expect(ex.ret).toBe(0);
      // ".." escapes the prefix: not filtered; /proc/self/root/... is ext4 behind /proc: not filtered
      const escape = `${hiddenDir}/../${'hidden-tree'}/data`;
      await launcher.run(`${helper} open ${escape}; ${helper} open /proc/self/root${file}; ${helper} open /proc/self/status`);
      await col.waitFor((x) => isFile(x) && x.path === escape && x.ret >= 0);
      await col.waitFor((x) => isFile(x) && x.path === `/proc/self/root${file}` && x.ret >= 0);
      const hidden = await col.settle((x) => isFile(x) && (x.path === file || x.path === '/proc/self/status'));
      expect(hidden).toEqual([]);
      // and reads of the hidden file are muted: no aggregate for that exec's data fd
      const io = col.records.filter((x) => isIo(x) && x.tgid === ex.tgid && x.rdBytes === 4);
      expect(io).toEqual([]);
    } finally {
      sensor.setFilters({ pathPrefixes: [...DEFAULT_PATH_PREFIXES] });
    }
  });

  test('matches strace -f on the same workload (exec, open, unlink, connect)', async () => {
    const port = freePort();
    const srv = Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } });
    const out = join(dir, 'strace.out');
    const target = join(dir, 'strace-target');
    const script = `cat /etc/hostname > ${target}; ls ${dir} > /dev/null; rm ${target}; ${helper} connect 127.0.0.1 ${port}; /nonexistent/nope; true`;
    // no path prefixes during this test: every call strace sees must have its record (libraries included)
    sensor.setFilters({ pathPrefixes: [] });
    try {
      const r = await launcher.run(`strace -f -qq -s 4096 -v -o ${out} -e trace=execve,openat,unlinkat,connect sh -c '${script}'`);
      expect(r.code).toBe(0);
      await Bun.sleep(200);
      col.drain();
      const calls = parseStrace(readFileSync(out, 'utf8'));
      expect(calls.length).toBeGreaterThan(10);
      let checked = 0;
      for (const c of calls) {
        const match = col.records.find((x) => {
          if (x.pid !== c.pid || x.kind !== c.syscall) return false;
          if (x.ret !== c.ret) return false;
          if (isExec(x)) return x.filename === c.path && JSON.stringify(x.argv) === JSON.stringify(c.argv);
          if (isFile(x)) return x.path === c.path;
          if (isNet(x)) return x.remotePort === c.port && x.remoteAddress === c.ip;
          return false;
        });
        if (!match) throw new Error(`strace saw ${c.line} but the sensor has no matching record`);
        checked++;
      }
      expect(checked).toBe(calls.length);
    } finally {
      sensor.setFilters({ pathPrefixes: [...DEFAULT_PATH_PREFIXES] });
      srv.stop(true);
    }
  });
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function readlinkReal(p: string): string {
  return realpathSync(p);
}

interface StraceCall {
  pid: number;
  syscall: string;
  path?: string;
  argv?: string[];
  ip?: string;
  port?: number;
  ret: number;
  line: string;
}

const ERRNO_NUM: Record<string, number> = { ENOENT: 2, EACCES: 13, ECONNREFUSED: 111, ENOTDIR: 20, EINPROGRESS: 115, EEXIST: 17 };

/** Parse `strace -f -o` output (joins <unfinished ...> / <... resumed> pairs). */
function parseStrace(text: string): StraceCall[] {
  const pending = new Map<number, string>();
  const calls: StraceCall[] = [];
  for (const raw of text.split('\n')) {
    const m = raw.match(/^(\d+)\s+(.*)$/);
    if (!m) continue;
    const pid = Number(m[1]);
    let body = m[2]!;
    if (body.endsWith('<unfinished ...>')) {
      pending.set(pid, body.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = body.match(/^<\.\.\. \w+ resumed>(.*)$/);
    if (resumed) {
      body = (pending.get(pid) ?? '') + resumed[1];
      pending.delete(pid);
    }
    const call = body.match(/^(\w+)\((.*)\)\s+=\s+(-?\d+)(?:\s+(E\w+))?/);
    if (!call) continue;
    const [, syscall, args, retText, errName] = call;
    const ret = Number(retText) === -1 && errName ? -(ERRNO_NUM[errName] ?? 0) : Number(retText);
    const strings = [...args!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => JSON.parse(`"${s[1]}"`) as string);
    const c: StraceCall = { pid, syscall: syscall!, ret, line: raw };
    if (syscall === 'execve') {
      c.path = strings[0];
      const argvText = args!.match(/\[(.*?)\]/)?.[1] ?? '';
      c.argv = [...argvText.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => JSON.parse(`"${s[1]}"`) as string);
    } else if (syscall === 'openat' || syscall === 'unlinkat') {
      c.path = strings[0];
    } else if (syscall === 'connect') {
      const port = args!.match(/sin6?_port=htons\((\d+)\)/);
      const ip = args!.match(/inet_addr\("([^"]+)"\)/);
      if (!port || !ip) continue; // AF_UNIX connects (nscd probing): not what this test checks
      c.port = Number(port[1]);
      c.ip = ip[1];
    } else {
      continue;
    }
    calls.push(c);
  }
  return calls;
}
