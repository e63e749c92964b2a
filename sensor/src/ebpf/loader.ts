/**
 * The one loader: checks the host (privileges, BTF, tracefs) and the compiled object (built at
 * install, never here), probes the optional programs (features.ts), opens
 * bpf/build/provmon.bpf.o with libbpf, sizes the maps, loads (CO-RE relocation + verifier),
 * attaches every program, maps the ring buffer and writes the filters. Failures become
 * ProvmonErrors that say what to do; a verifier rejection names the program and quotes the end
 * of the verifier log.
 */
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { ProvmonError } from '../errors.ts';
import { preflightProblems } from '../preflight/capabilities.ts';
import { libbpf, libc, lastErrno, strerror, setLibbpfPrint, asPtr, ptr, closeFdsParallel, type Pointer, type LibbpfLogLevel } from './libbpf.ts';
import { MmapRing } from './ringbuf.ts';
import { Layout } from './records.ts';
import { checkObject, DEFAULT_OBJECT } from './object.ts';
import { FEATURE_NAMES, OPTIONAL_FEATURES, type FeatureChoice } from './features.ts';
import {
  DEFAULT_PATH_PREFIXES,
  netKey,
  noiseKey,
  parsePrefix,
  prefixEntry,
  resolveExe,
  type FilterConfig,
} from './filters.ts';

export { DEFAULT_OBJECT };
const BTF_PATH = '/sys/kernel/btf/vmlinux';
/** getpgid() argument that runs the fallback flush (PM_FLUSH_MAGIC in bpf/provmon.h) */
const FLUSH_MAGIC = 0x7072766d;

export interface LoadOptions {
  /** compiled object; default bpf/build/provmon.bpf.o (built by bpf/build.sh when missing or stale) */
  objectPath?: string;
  /** ring buffer bytes: a power of two, at least one page. Default 16 MiB */
  ringBytes?: number;
  filters?: FilterConfig;
  /** map capacities (entries) */
  capacities?: { processes?: number; aggregates?: number };
  /** libbpf's own log lines (warnings by default; set `logLevel` for more) */
  log?: (level: LibbpfLogLevel, line: string) => void;
  logLevel?: LibbpfLogLevel;
  /** optional features (features.ts) to replace by their fallback even where the kernel accepts them */
  forceFallback?: readonly string[];
  /** fold repeated read-only opens of one file into PMK_FOLD records (default true) */
  fold?: boolean;
}

export interface KernelStats {
  /** records the kernel tried to write into the ring buffer */
  produced: number;
  /** ... of which did not fit (ring full): produced − dropped must reach user space */
  dropped: number;
  /** syscalls whose entry could not be stashed (in-flight map full): event lost */
  stashFull: number;
  /** read/write calls that could not be aggregated (aggregate map full) */
  aggFull: number;
  /** process filter state that could not be stored (process map full) */
  procFull: number;
  /** read/write-like calls folded into aggregates */
  ioCalls: number;
  /** ... of dropped, per priority class (docs/ebpf.md "Priority classes"): exec, fork, exit, setuid: the ring was full */
  droppedCritical: number;
  /** ... connect, accept, bind, listen: shed at 7/8 of the ring */
  droppedNet: number;
  /** ... write-opens, unlink, rename, chmod, dup: shed at 6/8 */
  droppedHigh: number;
  /** ... read-only opens, close/io aggregates, folds, socket, sendto/recvfrom peers: shed at 5/8 */
  droppedLow: number;
  /** read-only opens counted in a fold record instead of reported one by one (not a loss) */
  opensFolded: number;
  /** opens that could not start a fold entry (fold map full): reported one by one instead (not a loss) */
  foldFull: number;
  /** every loss above, summed */
  lost: number;
}

/* ------------------------------------------------------------- preflight */

/** Throws a ProvmonError when this host cannot load the sensor (privileges, BTF). Mounts tracefs if needed. */
export function preflight(): void {
  const problems = preflightProblems({ ebpf: true, pcap: false, btfPath: BTF_PATH });
  if (problems.length > 0) {
    throw new ProvmonError(`cannot load the eBPF sensor: ${problems.map((p) => p.what).join('; ')}`, {
      hint: problems.map((p) => p.fix).join('\n'),
      exitCode: 77,
    });
  }
  ensureTracefs();
}

/**
 * stat(), not access(): tracefs is mode 0700 root, and access() checks the real uid without capabilities, so a
 * non-root sensor holding CAP_DAC_READ_SEARCH (the packaged unit) would wrongly see it as absent.
 */
function pathState(path: string): 'directory' | 'absent' | 'denied' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'absent';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : 'absent';
  }
}
const isDirectory = (path: string) => pathState(path) === 'directory';

/** libbpf attaches tracepoints by id, read from tracefs: mount it when the host has not. */
function ensureTracefs(): void {
  const state = pathState('/sys/kernel/tracing/events');
  if (state === 'directory' || isDirectory('/sys/kernel/debug/tracing/events')) return;
  if (state === 'denied') {
    throw new ProvmonError('cannot read tracepoint ids: /sys/kernel/tracing is readable by root only and this process lacks CAP_DAC_READ_SEARCH', {
      hint: 'run provmon as root, or through provmon-sensor.service (which grants CAP_DAC_READ_SEARCH), or add that capability',
      exitCode: 77,
    });
  }
  const rc = libc().mount(Buffer.from('tracefs\0'), Buffer.from('/sys/kernel/tracing\0'), Buffer.from('tracefs\0'), 0n, null);
  if (rc !== 0 || !isDirectory('/sys/kernel/tracing/events')) {
    throw new ProvmonError(`tracefs is not mounted and mounting it failed (errno ${lastErrno()})`, {
      hint: 'mount -t tracefs tracefs /sys/kernel/tracing',
      exitCode: 77,
    });
  }
}

/* ------------------------------------------------------------ map helpers */

function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, what: string): void {
  const err = libbpf().bpf_map_update_elem(fd, key, value, 0n);
  if (err < 0) {
    const hint = err === -7 || err === -28 ? 'the map is full: its capacity is sized from the configuration at load; restart the sensor to grow it' : undefined;
    throw new ProvmonError(`cannot store ${what} in the kernel: ${strerror(err)}`, hint ? { hint } : {});
  }
}

function clearMap(fd: number, keySize: number): void {
  const key = new Uint8Array(keySize);
  const b = libbpf();
  // always restart from the first key: deleting invalidates iteration order
  while (b.bpf_map_get_next_key(fd, null, key) === 0) {
    if (b.bpf_map_delete_elem(fd, key) < 0) break;
  }
}

/* ---------------------------------------------------------------- sensor */

interface Attached {
  name: string;
  link: Pointer;
}

const MUTE_SELF = 1;
const MUTE_NOISE = 2;

/** iterator programs and the map each walks, in flush order (aggregates first: they feed fold entries) */
const ITERATORS = [
  { program: 'flush_io', map: 'agg' },
  { program: 'flush_fold', map: 'fold' },
] as const;

export class BpfSensor {
  readonly ring: MmapRing;
  readonly ringBytes: number;
  /** programs whose tracepoint this kernel does not have (e.g. fchmodat2 before 6.6) */
  readonly unavailable: string[] = [];
  /** each optional feature and what runs in its place (features.ts) */
  readonly features: FeatureChoice[];
  private obj: Pointer | null;
  private links: Attached[] = [];
  private iterLinks: Pointer[] = [];
  private readonly fds: Record<string, number>;
  private readonly ncpu: number;

  /** @internal use loadSensor() */
  constructor(obj: Pointer, fds: Record<string, number>, ringBytes: number, features: FeatureChoice[]) {
    this.obj = obj;
    this.fds = fds;
    this.ringBytes = ringBytes;
    this.features = features;
    this.ncpu = libbpf().libbpf_num_possible_cpus();
    this.ring = new MmapRing(fds.events!, ringBytes);
  }

  /** how the periodic flush runs: 'iter' (map iterators) or 'tracepoint-flush' (the fallback) */
  get flushMethod(): string {
    return this.features.find((f) => f.feature === 'iter')!.using;
  }

  /** @internal attach every program (loadSensor does it after writing the filters) */
  attach(log?: (level: LibbpfLogLevel, line: string) => void): void {
    const b = libbpf();
    const obj = this.obj!;
    try {
      const iterLinks = new Map<string, Pointer>();
      for (let prog = asPtr(b.bpf_object__next_program(obj, null)); prog; prog = asPtr(b.bpf_object__next_program(obj, prog))) {
        if (!b.bpf_program__autoload(prog)) continue; // an optional program this kernel does not get
        const name = String(b.bpf_program__name(prog));
        const section = String(b.bpf_program__section_name(prog));
        if (section.startsWith('iter/')) {
          const it = ITERATORS.find((i) => i.program === name);
          if (!it) throw new ProvmonError(`eBPF object has an unknown iterator '${name}' (stale build? run bash bpf/build.sh)`);
          iterLinks.set(name, attachIter(prog, this.mapFd(it.map), name));
          continue;
        }
        const link = asPtr(b.bpf_program__attach(prog));
        if (!link) {
          const e = lastErrno();
          const tp = section.replace(/^tracepoint\//, '');
          if (e === 2 && !isDirectory(`/sys/kernel/tracing/events/${tp}`) && !isDirectory(`/sys/kernel/debug/tracing/events/${tp}`)) {
            this.unavailable.push(tp);
            log?.('warn', `tracepoint ${tp} does not exist on this kernel: ${name} not attached`);
            continue;
          }
          throw new ProvmonError(`attaching eBPF program '${name}' (${section}) failed: ${strerror(-e)}`);
        }
        this.links.push({ name, link });
      }
      if (iterLinks.size > 0) this.iterLinks = ITERATORS.map((i) => iterLinks.get(i.program)!);
    } catch (error) {
      this.detach();
      throw error;
    }
  }

  get programCount(): number {
    return this.links.length + this.iterLinks.length;
  }

  mapFd(name: string): number {
    const fd = this.fds[name];
    if (fd === undefined) throw new Error(`no map ${name}`);
    return fd;
  }

  /**
   * Write the filters into the kernel maps. A field that is undefined is left as it is;
   * an array replaces that filter's rules. ownTgids are added (never removed: their
   * descendants were marked as they forked).
   */
  setFilters(cfg: FilterConfig, opts: { classifyRunning?: boolean } = {}): void {
    if (cfg.ownTgids) for (const tgid of cfg.ownTgids) this.muteProcess(tgid, MUTE_SELF);
    if (cfg.noise) {
      const fd = this.mapFd('noise');
      clearMap(fd, 16 + 256);
      this.clearMuteBit(MUTE_NOISE); // re-decided below for running processes, and at every exec
      const rules = cfg.noise.map((r) => ({ comm: r.comm.slice(0, 15), exe: resolveExe(r.exe) }));
      for (const r of rules) mapUpdate(fd, noiseKey(r.comm, r.exe), Uint8Array.of(1), `noise rule ${r.comm} ${r.exe}`);
      // processes already running when the rule arrives: classify them from /proc
      if (opts.classifyRunning !== false && rules.length) {
        for (const pid of listPids()) {
          const comm = readProc(`/proc/${pid}/comm`)?.trimEnd();
          let exe: string | undefined;
          try {
            exe = readlinkSync(`/proc/${pid}/exe`);
          } catch {
            continue;
          }
          if (rules.some((r) => r.comm === comm && r.exe === exe)) this.muteProcess(pid, MUTE_NOISE);
        }
      }
    }
    if (cfg.pathPrefixes) {
      const fd = this.mapFd('prefixes');
      clearMap(fd, 260);
      for (const p of cfg.pathPrefixes) {
        const { key, value } = prefixEntry(parsePrefix(p));
        mapUpdate(fd, key, value, `path prefix ${p}`);
      }
    }
    if (cfg.netAllow) {
      const fd = this.mapFd('netallow');
      clearMap(fd, 20);
      for (const r of cfg.netAllow) mapUpdate(fd, netKey(r.ip, r.port), Uint8Array.of(1), `network allowlist entry ${r.ip}:${r.port}`);
    }
  }

  private clearMuteBit(bit: number): void {
    const fd = this.mapFd('proc_state');
    const b = libbpf();
    const key = new Uint32Array(1);
    const next = new Uint32Array(1);
    const val = new Uint32Array(Layout.proc_state.SIZE / 4);
    let prev: Uint32Array | null = null;
    while (b.bpf_map_get_next_key(fd, prev, next) === 0) {
      key[0] = next[0]!;
      if (b.bpf_map_lookup_elem(fd, key, val) === 0 && val[0]! & bit) {
        val[0] = val[0]! & ~bit;
        b.bpf_map_update_elem(fd, key, val, 2n /* BPF_EXIST */);
      }
      prev = key;
    }
  }

  private muteProcess(tgid: number, bit: number): void {
    const fd = this.mapFd('proc_state');
    const key = new Uint32Array([tgid]);
    const val = new Uint32Array(Layout.proc_state.SIZE / 4);
    libbpf().bpf_map_lookup_elem(fd, key, val);
    val[0] = val[0]! | bit;
    mapUpdate(fd, new Uint8Array(key.buffer), new Uint8Array(val.buffer), `process ${tgid}`);
  }

  /** Kernel counters summed over CPUs. */
  stats(): KernelStats {
    const size = Layout.stats.SIZE;
    const buf = new Uint8Array(size * this.ncpu);
    const key = new Uint32Array([0]);
    const err = libbpf().bpf_map_lookup_elem(this.mapFd('stats'), key, buf);
    if (err < 0) throw new Error(`reading stats: ${strerror(err)}`);
    const dv = new DataView(buf.buffer);
    const sum = (o: number) => {
      let t = 0;
      for (let c = 0; c < this.ncpu; c++) t += Number(dv.getBigUint64(c * size + o, true));
      return t;
    };
    const s = Layout.stats;
    const produced = sum(s.rb_attempts);
    const dropped = sum(s.rb_drops);
    const stashFull = sum(s.stash_full);
    const aggFull = sum(s.agg_full);
    const procFull = sum(s.proc_full);
    return {
      produced,
      dropped,
      stashFull,
      aggFull,
      procFull,
      ioCalls: sum(s.io_calls),
      droppedCritical: sum(s.rb_drops_crit),
      droppedNet: sum(s.rb_drops_net),
      droppedHigh: sum(s.rb_drops_high),
      droppedLow: sum(s.rb_drops_low),
      opensFolded: sum(s.opens_folded),
      foldFull: sum(s.fold_full),
      lost: dropped + stashFull + aggFull,
    };
  }

  /** cfg map: who may run the fallback flush, and whether opens fold */
  writeConfig(cfg: { flushTgid: number; fold: boolean }): void {
    const v = new Uint32Array(Layout.cfg.SIZE / 4);
    v[Layout.cfg.flush_tgid / 4] = cfg.flushTgid;
    v[Layout.cfg.fold / 4] = cfg.fold ? 1 : 0;
    mapUpdate(this.mapFd('cfg'), new Uint8Array(4), new Uint8Array(v.buffer), 'the sensor configuration');
  }

  /**
   * Emit every open fd's read/write counters accumulated since the last flush (one PMK_IO
   * record per active fd, reason 'interval'), then every pending fold count (PMK_FOLD). With
   * iterators: one read() of each bpf_iter fd walks its map in the kernel. With the fallback:
   * getpgid(FLUSH_MAGIC) fires the flush_trigger tracepoint program in this thread, which walks
   * both maps before the call returns (it then fails with ESRCH, as intended).
   */
  flush(): void {
    if (this.iterLinks.length === 0) {
      if (this.obj) libc().getpgid(FLUSH_MAGIC);
      return;
    }
    const b = libbpf();
    const buf = new Uint8Array(64);
    for (const link of this.iterLinks) {
      const fd = b.bpf_iter_create(b.bpf_link__fd(link));
      if (fd < 0) throw new Error(`bpf_iter_create: ${strerror(fd)}`);
      try {
        for (;;) {
          const n = Number(libc().read(fd, buf, BigInt(buf.length)));
          if (n <= 0) break;
        }
      } finally {
        libc().close(fd);
      }
    }
  }

  /** Stop producing (programs detached). The ring and maps stay readable until close(). */
  detach(): void {
    const b = libbpf();
    const fds: number[] = [];
    const kept: Attached[] = [];
    for (const l of this.links) {
      // the fallback flush must outlive detach: stop() flushes after the producers are gone
      if (FLUSH_PROGRAMS.has(l.name)) {
        kept.push(l);
        continue;
      }
      fds.push(b.bpf_link__fd(l.link));
      b.bpf_link__disconnect(l.link); // keep the fd open: closed below, in parallel
      b.bpf_link__destroy(l.link);
    }
    this.links = kept;
    closeFdsParallel(fds);
  }

  close(): void {
    this.detach();
    for (const l of this.links) libbpf().bpf_link__destroy(l.link);
    this.links = [];
    const b = libbpf();
    for (const link of this.iterLinks) b.bpf_link__destroy(link);
    this.iterLinks = [];
    this.ring.close();
    if (this.obj) b.bpf_object__close(this.obj);
    this.obj = null;
  }
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function listPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/* ----------------------------------------------------------------- load */

const LOG_RANK: Record<LibbpfLogLevel, number> = { warn: 0, info: 1, debug: 2 };
const FLUSH_PROGRAMS = new Set<string>(OPTIONAL_FEATURES.find((f) => f.name === 'iter')!.fallback.programs);

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Extract the verifier's complaint from libbpf's log: program name and the last lines. */
export function verifierFailure(lines: string[]): { program: string; tail: string[] } | undefined {
  let program: string | undefined;
  let start = -1;
  let end = -1;
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/prog '([^']+)': -- BEGIN PROG LOAD LOG --/);
    if (m) {
      program = m[1];
      start = i + 1;
      end = -1;
    } else if (start >= 0 && end < 0 && lines[i]!.includes('-- END PROG LOAD LOG --')) {
      end = i;
    }
  }
  if (!program) {
    for (const l of lines) {
      const m = l.match(/prog '([^']+)': failed to load/);
      if (m) return { program: m[1]!, tail: [] };
    }
    return undefined;
  }
  const body = lines.slice(start, end < 0 ? undefined : end).filter((l) => l.trim().length);
  return { program, tail: body.slice(-20) };
}

type ProbeResult = { ok: true } | { ok: false; reason: string };

/**
 * Throw-away load of just `programs` (every map shrunk to a few entries): whether this kernel
 * accepts them. EPERM here is the kernel's policy for that program type, not missing privileges
 * (preflight checked those), so it is a reason to fall back, not to stop.
 */
function probePrograms(objectPath: string, programs: readonly string[], logLines: string[]): ProbeResult {
  const b = libbpf();
  const obj = asPtr(b.bpf_object__open_file(Buffer.from(objectPath + '\0'), null));
  if (!obj) return { ok: false, reason: `libbpf cannot open ${objectPath}: ${strerror(-lastErrno())}` };
  try {
    const found = new Set<string>();
    for (let prog = asPtr(b.bpf_object__next_program(obj, null)); prog; prog = asPtr(b.bpf_object__next_program(obj, prog))) {
      const name = String(b.bpf_program__name(prog));
      const wanted = programs.includes(name);
      if (wanted) found.add(name);
      b.bpf_program__set_autoload(prog, wanted);
    }
    const missing = programs.filter((p) => !found.has(p));
    if (missing.length) return { ok: false, reason: `the eBPF object has no program ${missing.join(', ')} (stale build? run bash bpf/build.sh)` };
    for (const [name, n] of PROBE_MAP_SIZES) {
      const m = asPtr(b.bpf_object__find_map_by_name(obj, Buffer.from(name + '\0')));
      if (m) b.bpf_map__set_max_entries(m, n);
    }
    const from = logLines.length;
    const err = b.bpf_object__load(obj);
    if (err === 0) return { ok: true };
    const v = verifierFailure(logLines.slice(from));
    return { ok: false, reason: `the kernel refused ${v?.program ?? programs.join(', ')}: ${strerror(err)}` };
  } finally {
    b.bpf_object__close(obj);
  }
}

/** a probe creates every map of the object: keep them tiny (the ring needs a power of two of at least a page) */
const PROBE_MAP_SIZES: [string, number][] = [
  ['events', 4096],
  ['proc_state', 16],
  ['agg', 16],
  ['fold', 16],
  ['ino_gen', 16],
  ['inflight_exec', 16],
  ['noise', 16],
  ['netallow', 16],
  ['prefixes', 16],
];

/** Probe every optional feature without loading the sensor (provmon doctor): what would run, and why. */
export function probeFeatures(objectPath: string = DEFAULT_OBJECT, forceFallback: readonly string[] = []): FeatureChoice[] {
  const lines: string[] = [];
  setLibbpfPrint((_level, line) => void lines.push(line));
  try {
    return chooseFeatures(objectPath, forceFallback, lines);
  } finally {
    setLibbpfPrint(undefined);
  }
}

/** Which optional features run, and which fallbacks replace the others (forced, or refused by the kernel). */
function chooseFeatures(objectPath: string, force: readonly string[], logLines: string[]): FeatureChoice[] {
  const unknown = force.filter((f) => !FEATURE_NAMES.includes(f));
  if (unknown.length) {
    throw new ProvmonError(`ebpf_config.force_fallback: unknown feature ${unknown.join(', ')} (known: ${FEATURE_NAMES.join(', ')})`, { exitCode: 2 });
  }
  return OPTIONAL_FEATURES.map((feature) => {
    if (force.includes(feature.name)) return { feature: feature.name, using: feature.fallback.name, fallbackReason: 'forced by configuration' };
    const probe = probePrograms(objectPath, feature.programs, logLines);
    if (probe.ok) return { feature: feature.name, using: feature.name };
    return { feature: feature.name, using: feature.fallback.name, fallbackReason: probe.reason };
  });
}

function programsOf(choice: FeatureChoice): readonly string[] {
  const feature = OPTIONAL_FEATURES.find((f) => f.name === choice.feature)!;
  return choice.using === feature.name ? feature.programs : feature.fallback.programs;
}

export function loadSensor(opts: LoadOptions = {}): BpfSensor {
  preflight();
  const objectPath = opts.objectPath ?? DEFAULT_OBJECT;
  checkObject(objectPath);
  const ringBytes = opts.ringBytes ?? 16 * 1024 * 1024;
  const page = 4096;
  if (!isPowerOfTwo(ringBytes) || ringBytes < page) {
    throw new ProvmonError(`ring buffer size ${ringBytes} bytes is not a power of two of at least ${page} bytes`, {
      hint: 'set ebpf_config.ring_buffer_mb to a power of two (1, 2, 4, 8, 16, 32, ...)',
      exitCode: 2,
    });
  }

  const b = libbpf();
  const logLines: string[] = [];
  const maxRank = LOG_RANK[opts.logLevel ?? 'warn'];
  let probing = true; // a probe's refusal is expected on some kernels: not a warning
  setLibbpfPrint((level, line) => {
    logLines.push(line);
    if (!probing && opts.log && LOG_RANK[level] <= maxRank) opts.log(level, line);
  });
  const features = chooseFeatures(objectPath, opts.forceFallback ?? [], logLines);
  probing = false;
  const chosen = new Set<string>(features.flatMap(programsOf));

  const obj = asPtr(b.bpf_object__open_file(Buffer.from(objectPath + '\0'), null));
  if (!obj) throw new ProvmonError(`libbpf cannot open ${objectPath}: ${strerror(-lastErrno())}`, { hint: logLines.slice(-5).join('\n') });

  let owned = true; // until BpfSensor takes the object over
  try {
    const map = (name: string) => {
      const m = asPtr(b.bpf_object__find_map_by_name(obj, Buffer.from(name + '\0')));
      if (!m) throw new ProvmonError(`eBPF object has no map '${name}' (stale build? run bash bpf/build.sh)`);
      return m;
    };
    const setMax = (name: string, n: number) => {
      const err = b.bpf_map__set_max_entries(map(name), n);
      if (err < 0) throw new Error(`bpf_map__set_max_entries(${name}): ${strerror(err)}`);
    };
    const f = opts.filters ?? {};
    setMax('events', ringBytes);
    setMax('noise', Math.max(64, 2 * (f.noise?.length ?? 0)));
    setMax('prefixes', Math.max(256, 2 * (f.pathPrefixes?.length ?? DEFAULT_PATH_PREFIXES.length)));
    setMax('netallow', Math.max(1024, 2 * (f.netAllow?.length ?? 0)));
    if (opts.capacities?.processes) setMax('proc_state', opts.capacities.processes);
    if (opts.capacities?.aggregates) setMax('agg', opts.capacities.aggregates);
    const optional = new Set<string>(OPTIONAL_FEATURES.flatMap((f) => [...f.programs, ...f.fallback.programs]));
    for (let prog = asPtr(b.bpf_object__next_program(obj, null)); prog; prog = asPtr(b.bpf_object__next_program(obj, prog))) {
      const name = String(b.bpf_program__name(prog));
      if (optional.has(name)) b.bpf_program__set_autoload(prog, chosen.has(name));
    }

    const err = b.bpf_object__load(obj);
    if (err < 0) {
      if (err === -1) {
        throw new ProvmonError('the kernel refused to load the eBPF programs: permission denied', {
          hint: 'run as root; in a container also allow bpf(2) (seccomp) and CAP_BPF/CAP_PERFMON',
          exitCode: 77,
        });
      }
      const v = verifierFailure(logLines);
      if (v) {
        throw new ProvmonError(
          `the kernel verifier rejected eBPF program '${v.program}' (${strerror(err)})` +
            (v.tail.length ? `\n--- last lines of the verifier log ---\n${v.tail.join('\n')}` : ''),
          { hint: 'this kernel may be older than the programs need (>= 5.17 with BTF); report it with `uname -r`' },
        );
      }
      throw new ProvmonError(`loading eBPF object failed: ${strerror(err)}`, { hint: logLines.slice(-20).join('\n') });
    }

    const fds: Record<string, number> = {};
    for (const name of ['events', 'stats', 'proc_state', 'noise', 'prefixes', 'netallow', 'agg', 'fold', 'cfg']) {
      fds[name] = b.bpf_map__fd(map(name));
    }

    const sensor = new BpfSensor(obj, fds, ringBytes, features);
    owned = false;
    try {
      sensor.writeConfig({ flushTgid: process.pid, fold: opts.fold ?? true });
      // filters first: the sensor's own activity must be muted before the first event fires
      sensor.setFilters({ pathPrefixes: [...DEFAULT_PATH_PREFIXES], ...f });
      sensor.attach(opts.log);
    } catch (error) {
      sensor.close();
      throw error;
    }
    return sensor;
  } finally {
    if (owned) b.bpf_object__close(obj);
    setLibbpfPrint(opts.log ? (level, line) => LOG_RANK[level] <= maxRank && opts.log!(level, line) : undefined);
  }
}

/** iter/bpf_map_elem needs the map it walks: bpf_iter_attach_opts { sz, link_info*, link_info_len } */
function attachIter(prog: Pointer, mapFd: number, name: string): Pointer {
  const linkInfo = new Uint32Array(4); // union bpf_iter_link_info: { __u32 map_fd } first
  linkInfo[0] = mapFd;
  const opts = new BigUint64Array(3);
  opts[0] = 24n; // sizeof(struct bpf_iter_attach_opts)
  opts[1] = BigInt(ptr(linkInfo));
  opts[2] = 16n; // link_info_len
  const link = asPtr(libbpf().bpf_program__attach_iter(prog, opts));
  if (!link) throw new ProvmonError(`attaching eBPF iterator '${name}' failed: ${strerror(-lastErrno())}`);
  return link;
}
