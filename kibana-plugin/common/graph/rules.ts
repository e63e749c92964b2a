/**
 * The security rule set that colours the graph. Each rule looks at the steps the trace fetched (not only the
 * ones it followed: "connected after reading /etc/shadow" needs the read even when a forward trace from the
 * downloaded file never walks into it) and names the nodes and steps it flags. The rules and their ATT&CK
 * mappings are documented in README.md; keep the two in step.
 *
 * Rules judge executables, never comm: comm is 15 bytes the process chose itself, which is exactly what the
 * renamed-process rule distrusts.
 */
import { imageAt, type StepStore } from './build.ts';
import type { Flag, NodeId, ProcessInfo, Severity, Step } from './model.ts';
import { basename, commOf, homeRelative, interpreterFamily, isUnder, scriptArgument, shebangScript, writableLocation, type InterpreterFamily } from './paths.ts';
import { cmpInstant, mayFollow, mayPrecede, sortInstant, type Instant } from './time.ts';

export type RuleId =
  | 'exec-from-writable-location'
  | 'ingress-tool-transfer'
  | 'executable-permission-in-writable-location'
  | 'setuid-setgid-bit'
  | 'shell-from-network-service'
  | 'persistence-write'
  | 'credential-read'
  | 'exfiltration-after-credential-read'
  | 'self-deletion'
  | 'renamed-process';

export interface Finding extends Flag {
  rule: RuleId;
  /** nodes the flag is shown on */
  nodes: NodeId[];
  /** steps the flag is shown on */
  steps: string[];
  /** steps that are evidence but carry another rule's flag (the read before an exfiltration) */
  related: string[];
  /** earliest evidence */
  at: Instant;
}

const INTERPRETER_TECHNIQUE: Record<InterpreterFamily, string> = {
  shell: 'T1059.004',
  python: 'T1059.006',
  javascript: 'T1059.007',
  perl: 'T1059',
  ruby: 'T1059',
  php: 'T1059',
  lua: 'T1059',
  tcl: 'T1059',
  other: 'T1059',
};

/** Programs whose job is to hand a shell to a network peer: flagged, but low. */
const LOGIN_SERVICES = new Set(['/usr/sbin/sshd', '/usr/bin/sshd', '/usr/lib/openssh/sshd-session', '/usr/libexec/openssh/sshd-session', '/usr/bin/login', '/bin/login', '/usr/sbin/in.telnetd', '/usr/sbin/xrdp-sesman']);

/**
 * Programs that retitle themselves by design (libuv's process.title, PostgreSQL's and nginx's process titles,
 * sshd's per-session titles): still flagged when renamed, but low.
 */
const KNOWN_RETITLERS = new Set(['node', 'nodejs', 'bun', 'postgres', 'postmaster', 'nginx', 'sshd', 'sshd-session', 'php-fpm', 'uwsgi', 'chrome', 'chromium', 'firefox', 'systemd']);

/** Programs expected to read password hashes (PAM helpers, account tools). */
const SHADOW_READERS = new Set([
  '/usr/sbin/unix_chkpwd',
  '/sbin/unix_chkpwd',
  '/usr/bin/passwd',
  '/usr/bin/chage',
  '/usr/bin/su',
  '/bin/su',
  '/usr/bin/sudo',
  '/usr/bin/login',
  '/bin/login',
  '/usr/sbin/sshd',
  '/usr/sbin/chpasswd',
  '/usr/sbin/useradd',
  '/usr/sbin/usermod',
  '/usr/sbin/userdel',
  '/usr/sbin/pwck',
  '/usr/sbin/grpck',
  '/usr/bin/gpasswd',
  '/usr/sbin/cron',
  '/usr/sbin/crond',
]);

/** Programs expected to read SSH private keys. */
const SSH_KEY_READERS = new Set(['/usr/bin/ssh', '/usr/bin/ssh-add', '/usr/bin/ssh-agent', '/usr/bin/ssh-keygen', '/usr/bin/scp', '/usr/bin/sftp', '/usr/sbin/sshd', '/usr/lib/openssh/sshd-session', '/usr/libexec/openssh/sshd-session']);

export interface CredentialClass {
  technique: string;
  what: string;
  expectedReaders: Set<string>;
}

export function credentialClass(path: string): CredentialClass | undefined {
  if (/^\/etc\/g?shadow-?$/.test(path)) return { technique: 'T1003.008', what: 'password hashes', expectedReaders: SHADOW_READERS };
  if (/^\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/.test(path)) return { technique: 'T1552.004', what: 'an SSH host private key', expectedReaders: SSH_KEY_READERS };
  const home = homeRelative(path);
  if (home !== undefined && /^\.ssh\/id_[a-z0-9_-]+$/.test(home) && !home.endsWith('.pub')) {
    return { technique: 'T1552.004', what: 'an SSH private key', expectedReaders: SSH_KEY_READERS };
  }
  return undefined;
}

export interface PersistenceClass {
  technique: string;
  what: string;
}

/** Locations whose content runs later without the attacker: the persistence table of README.md. */
export function persistenceClass(path: string): PersistenceClass | undefined {
  if (path === '/etc/crontab' || path === '/etc/anacrontab' || /^\/etc\/cron\.(d|hourly|daily|weekly|monthly)\//.test(path) || isUnder(path, '/var/spool/cron')) {
    return { technique: 'T1053.003', what: 'a cron job' };
  }
  const systemdDirs = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system', '/run/systemd/system', '/etc/systemd/user', '/usr/lib/systemd/user'];
  const home = homeRelative(path);
  if (systemdDirs.some((d) => isUnder(path, d)) || (home !== undefined && home.startsWith('.config/systemd/user/'))) {
    return path.endsWith('.timer') ? { technique: 'T1053.006', what: 'a systemd timer' } : { technique: 'T1543.002', what: 'a systemd unit' };
  }
  if (path === '/etc/rc.local' || isUnder(path, '/etc/init.d') || /^\/etc\/rc[0-6S]\.d\//.test(path)) return { technique: 'T1037.004', what: 'an RC script' };
  if (/\/\.ssh\/authorized_keys2?$/.test(path)) return { technique: 'T1098.004', what: 'SSH authorized keys' };
  if (path === '/etc/sudoers' || isUnder(path, '/etc/sudoers.d')) return { technique: 'T1548.003', what: 'sudo rules' };
  if (path === '/etc/ld.so.preload') return { technique: 'T1574.006', what: 'the dynamic linker preload list' };
  if (path === '/etc/passwd') return { technique: 'T1136.001', what: 'the local account list' };
  if (isUnder(path, '/etc/udev/rules.d') || isUnder(path, '/lib/udev/rules.d') || isUnder(path, '/usr/lib/udev/rules.d')) return { technique: 'T1546.017', what: 'a udev rule' };
  const shellFiles = ['/etc/profile', '/etc/bash.bashrc', '/etc/bashrc', '/etc/zshrc', '/etc/zsh/zshrc', '/etc/zsh/zprofile', '/etc/zsh/zshenv', '/etc/environment'];
  const homeShellFiles = ['.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zprofile', '.zshenv', '.zlogin'];
  if (shellFiles.includes(path) || isUnder(path, '/etc/profile.d') || (home !== undefined && homeShellFiles.includes(home))) {
    return { technique: 'T1546.004', what: 'a shell start-up file' };
  }
  if ((home !== undefined && home.startsWith('.config/autostart/')) || isUnder(path, '/etc/xdg/autostart')) return { technique: 'T1547.013', what: 'an XDG autostart entry' };
  return undefined;
}

export function evaluateRules(store: StepStore): Finding[] {
  const ctx = new RuleContext(store);
  const f = new Findings();
  for (const s of ctx.sorted) {
    switch (s.kind) {
      case 'exec':
        execFromWritable(ctx, s, f);
        break;
      case 'write':
        ingressToolTransfer(ctx, s, f);
        persistenceWrite(ctx, s, s.source, s.target, f);
        break;
      case 'rename':
        if (s.by) persistenceWrite(ctx, s, s.by, s.target, f);
        break;
      case 'chmod':
        chmodRules(ctx, s, f);
        break;
      case 'spawn':
        shellFromNetworkService(ctx, s, f);
        break;
      case 'read':
        credentialRead(ctx, s, f);
        break;
      case 'delete':
        selfDeletion(ctx, s, f);
        break;
      default:
        break;
    }
  }
  for (const info of store.nodes.values()) if (info.kind === 'process') renamedProcess(info, f);
  return f.list();
}

// -----------------------------------------------------------------------------------------------------------------

class RuleContext {
  readonly sorted: Step[];
  private readonly execsInto = new Map<NodeId, Step[]>();
  private readonly network = new Map<NodeId, Step[]>();

  constructor(readonly store: StepStore) {
    this.sorted = [...store.steps.values()].sort((a, b) => sortInstant(a.start, b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const s of this.sorted) {
      if (s.kind !== 'exec') continue;
      const list = this.execsInto.get(s.target);
      if (list) list.push(s);
      else this.execsInto.set(s.target, [s]);
    }
  }

  path(node: NodeId): string {
    const n = this.store.node(node);
    return n?.kind === 'file' || n?.kind === 'channel' ? n.path : node;
  }

  label(node: NodeId, at?: Instant): string {
    const n = this.store.node(node);
    if (!n) return node;
    if (n.kind === 'file' || n.kind === 'channel') return n.path;
    if (n.kind === 'endpoint') return `${n.ip.includes(':') ? `[${n.ip}]` : n.ip}${n.port === undefined ? '' : `:${n.port}`}`;
    const img = at ? imageAt(n, at) : n.images[n.images.length - 1];
    const name = img?.name ?? (img?.executable ? basename(img.executable) : 'process');
    return `${name}[${n.pid ?? '?'}]`;
  }

  executableAt(node: NodeId, at: Instant): string | undefined {
    const p = this.store.process(node);
    return p ? imageAt(p, at)?.executable : undefined;
  }

  /** Successful connects and accepts of a process that may have happened before `before`, in time order. */
  networkBefore(node: NodeId, before: Instant): Step[] {
    let list = this.network.get(node);
    if (!list) {
      list = this.store
        .incoming(node)
        .filter((s) => (s.kind === 'connect' || s.kind === 'accept') && !s.failed)
        .sort((a, b) => sortInstant(a.start, b.start));
      this.network.set(node, list);
    }
    const out: Step[] = [];
    for (const s of list) {
      if (s.start.t > before.t) break;
      if (mayPrecede(s.start, before)) out.push(s);
    }
    return out;
  }

  /** Files executed into this process (binary and script), with the exec step. */
  execs(node: NodeId): Step[] {
    return this.execsInto.get(node) ?? [];
  }

  /** Parent chain, nearest first, as (process, spawn step). */
  ancestors(node: NodeId, max = 16): { node: NodeId; spawn: Step }[] {
    const out: { node: NodeId; spawn: Step }[] = [];
    let cur = node;
    const seen = new Set([node]);
    for (let i = 0; i < max; i++) {
      const spawn = this.store.spawnStep(cur);
      if (!spawn || seen.has(spawn.source)) break;
      out.push({ node: spawn.source, spawn });
      seen.add(spawn.source);
      cur = spawn.source;
    }
    return out;
  }

  /** The process and the descendants it spawned after `after`. */
  descendantsAfter(node: NodeId, after: Instant, max = 256): NodeId[] {
    const out = [node];
    for (let i = 0; i < out.length && out.length < max; i++) {
      for (const s of this.store.outgoing(out[i]!)) {
        if (s.kind === 'spawn' && s.source === out[i] && mayFollow(s.start, after) && !out.includes(s.target)) out.push(s.target);
      }
    }
    return out;
  }

  /** Accepted a connection (or listens) before `before`, itself or through a parent running the same program. */
  networkFacing(node: NodeId, before: Instant): boolean {
    let cur: NodeId | undefined = node;
    let at = before;
    for (let depth = 0; cur && depth < 8; depth++) {
      const p = this.store.process(cur);
      if (!p) return false;
      if (p.listening.some((l) => l.startsWith('listen '))) return true;
      for (const s of this.store.incoming(cur)) if (s.kind === 'accept' && s.establish && mayPrecede(s.start, at)) return true;
      const spawn = this.store.spawnStep(cur);
      if (!spawn) return false;
      // A pre-forking server's worker inherits the listening socket: same program, same exposure.
      const mine = imageAt(p, at)?.executable;
      const parent = this.store.process(spawn.source);
      const theirs = parent ? imageAt(parent, spawn.start)?.executable : undefined;
      if (!mine || mine !== theirs) return false;
      cur = spawn.source;
      at = spawn.start;
    }
    return false;
  }
}

class Findings {
  private readonly byKey = new Map<string, { f: Finding; steps: Set<string>; related: Set<string> }>();

  add(f: Omit<Finding, 'related'> & { related?: string[] }): void {
    const key = `${f.rule}|${f.nodes.join('|')}`;
    const existing = this.byKey.get(key);
    if (!existing) {
      this.byKey.set(key, { f: { ...f, related: [] }, steps: new Set(f.steps), related: new Set(f.related ?? []) });
      return;
    }
    for (const s of f.steps) existing.steps.add(s);
    for (const s of f.related ?? []) existing.related.add(s);
    if (sortInstant(f.at, existing.f.at) < 0) existing.f.at = f.at;
    if (rank(f.severity) > rank(existing.f.severity)) existing.f.severity = f.severity;
  }

  list(): Finding[] {
    return [...this.byKey.values()]
      .map(({ f, steps, related }) => ({ ...f, steps: [...steps], related: [...related].filter((r) => !steps.has(r)) }))
      .sort((a, b) => sortInstant(a.at, b.at) || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) || (a.nodes.join() < b.nodes.join() ? -1 : 1));
  }
}

function rank(s: Severity): number {
  return s === 'high' ? 2 : s === 'medium' ? 1 : 0;
}

function flagOf(technique: string | undefined, tactic: string | undefined): { technique?: string; tactic?: string } {
  return { ...(technique ? { technique } : {}), ...(tactic ? { tactic } : {}) };
}

// -----------------------------------------------------------------------------------------------------------------
// The rules
// -----------------------------------------------------------------------------------------------------------------

function execFromWritable(ctx: RuleContext, s: Step, f: Findings): void {
  const path = ctx.path(s.source);
  const where = writableLocation(path);
  if (!where) return;
  // A script run by an interpreter is T1059.x by that interpreter. A native binary run from a staging directory
  // has no technique of its own (T1204.002 would claim a user opened it, which the graph cannot tell): tactic only.
  const exe = ctx.executableAt(s.target, s.start);
  const family = s.script && exe ? interpreterFamily(basename(exe)) : undefined;
  f.add({
    rule: 'exec-from-writable-location',
    severity: where === 'world-writable' ? 'high' : 'medium',
    ...flagOf(family ? INTERPRETER_TECHNIQUE[family] : undefined, family ? undefined : 'TA0002'),
    reason: `${s.script ? 'ran the script' : 'executed'} ${path} from ${where === 'home' ? 'a home directory' : 'a world-writable directory'}`,
    nodes: [s.source, s.target],
    steps: [s.id],
    at: s.start,
  });
}

function ingressToolTransfer(ctx: RuleContext, w: Step, f: Findings): void {
  // What happened to the file afterwards first: it is what rules most writes out (and is cheap), where the
  // writer's network history can be long (a package manager writes thousands of files after thousands of fetches).
  const later = ctx.store
    .outgoing(w.target)
    .filter((s) => s.kind === 'exec' && mayFollow(s.start, w.start))
    .concat(ctx.store.incoming(w.target).filter((s) => s.kind === 'chmod' && s.mode !== undefined && (parseInt(s.mode, 8) & 0o111) !== 0 && mayFollow(s.start, w.start)));
  if (later.length === 0) return;
  const writer = w.source;
  const fromNetwork = ctx.networkBefore(writer, w.end);
  if (fromNetwork.length === 0) return;
  const peers = [...new Set(fromNetwork.map((s) => (s.kind === 'connect' ? s.target : s.source)))].sort();
  f.add({
    rule: 'ingress-tool-transfer',
    severity: 'high',
    technique: 'T1105',
    reason: `${ctx.label(writer, w.start)} wrote ${ctx.path(w.target)} after a network connection, and it was then made executable or executed`,
    // The writer and where it downloaded from are part of the story: they are what backward tracking is for.
    nodes: [w.target, writer, ...peers],
    steps: [w.id],
    related: [...later, ...fromNetwork].map((s) => s.id),
    at: w.start,
  });
}

function chmodRules(ctx: RuleContext, s: Step, f: Findings): void {
  if (s.mode === undefined) return;
  const mode = parseInt(s.mode, 8);
  if (Number.isNaN(mode)) return;
  const path = ctx.path(s.target);
  if ((mode & 0o6000) !== 0) {
    f.add({
      rule: 'setuid-setgid-bit',
      severity: 'high',
      technique: 'T1548.001',
      reason: `set the setuid/setgid bit on ${path} (mode ${s.mode})`,
      nodes: [s.target],
      steps: [s.id],
      at: s.start,
    });
  }
  if ((mode & 0o111) !== 0 && writableLocation(path)) {
    f.add({
      rule: 'executable-permission-in-writable-location',
      severity: 'medium',
      technique: 'T1222.002',
      reason: `made ${path} executable (mode ${s.mode})`,
      nodes: [s.target],
      steps: [s.id],
      at: s.start,
    });
  }
}

function shellFromNetworkService(ctx: RuleContext, s: Step, f: Findings): void {
  const child = ctx.store.process(s.target);
  if (!child) return;
  // The child's program: the images it exec'd after the fork (the fork image is the parent's own).
  const images = child.images.filter((img) => sortInstant(img.at, s.start) > 0 && img.executable);
  const shell = images.find((img) => interpreterFamily(basename(img.executable!)));
  if (!shell || !ctx.networkFacing(s.source, s.start)) return;
  const family = interpreterFamily(basename(shell.executable!))!;
  const parentExe = ctx.executableAt(s.source, s.start) ?? '';
  const login = LOGIN_SERVICES.has(parentExe);
  f.add({
    rule: 'shell-from-network-service',
    severity: login ? 'low' : 'high',
    technique: INTERPRETER_TECHNIQUE[family],
    reason: `${ctx.label(s.source, s.start)}, a network-facing service, started ${shell.executable}${login ? ' (a login service: expected for interactive logins)' : ''}`,
    nodes: [s.target],
    steps: [s.id],
    at: s.start,
  });
}

function persistenceWrite(ctx: RuleContext, s: Step, writer: NodeId, file: NodeId, f: Findings): void {
  const path = ctx.path(file);
  const cls = persistenceClass(path);
  if (!cls) return;
  f.add({
    rule: 'persistence-write',
    severity: 'high',
    technique: cls.technique,
    reason: `${ctx.label(writer, s.start)} modified ${path} (${cls.what})`,
    nodes: [file, writer],
    steps: [s.id],
    at: s.start,
  });
}

function credentialRead(ctx: RuleContext, s: Step, f: Findings): void {
  const path = ctx.path(s.source);
  const cls = credentialClass(path);
  if (!cls) return;
  const exe = ctx.executableAt(s.target, s.start) ?? '';
  const expected = cls.expectedReaders.has(exe);
  f.add({
    rule: 'credential-read',
    severity: expected ? 'low' : 'high',
    technique: cls.technique,
    reason: `${ctx.label(s.target, s.start)} read ${path} (${cls.what})${expected ? `; ${basename(exe)} is expected to` : ''}`,
    nodes: [s.source, s.target],
    steps: [s.id],
    at: s.start,
  });
  if (expected) return;
  // Exfiltration: the reader, or a process it started afterwards, then sent data out over the network.
  for (const proc of ctx.descendantsAfter(s.target, s.start)) {
    for (const c of ctx.store.outgoing(proc)) {
      // Strictly after the read: an unordered connect in the same millisecond proves nothing.
      if ((c.kind !== 'connect' && c.kind !== 'accept') || c.failed || cmpInstant(c.start, s.start) <= 0) continue;
      const ep = c.kind === 'connect' ? c.target : c.source;
      f.add({
        rule: 'exfiltration-after-credential-read',
        severity: 'high',
        technique: 'T1041',
        reason: `${ctx.label(proc, c.start)} sent data to ${ctx.label(ep)} after ${proc === s.target ? 'reading' : `${ctx.label(s.target, s.start)} read`} ${path}`,
        nodes: [proc, ep],
        steps: [c.id],
        related: [s.id],
        at: c.start,
      });
    }
  }
}

function selfDeletion(ctx: RuleContext, d: Step, f: Findings): void {
  const file = d.target;
  const who = d.source;
  // The deleting process, or one of its ancestors (a script that runs `rm "$0"` deletes itself through rm).
  const chain = [{ node: who, via: undefined as string | undefined }, ...ctx.ancestors(who).map((a) => ({ node: a.node, via: a.node }))];
  for (const { node, via } of chain) {
    const exec = ctx.execs(node).find((e) => e.source === file && mayPrecede(e.start, d.start));
    if (!exec) continue;
    f.add({
      rule: 'self-deletion',
      severity: 'high',
      technique: 'T1070.004',
      reason: via
        ? `${ctx.label(who, d.start)} deleted ${ctx.path(file)}, the program its ancestor ${ctx.label(node, exec.start)} was running`
        : `${ctx.label(who, d.start)} deleted its own executable ${ctx.path(file)}`,
      nodes: [who, file],
      steps: [d.id],
      related: [exec.id],
      at: d.start,
    });
    return;
  }
}

function renamedProcess(p: ProcessInfo, f: Findings): void {
  const images = p.images;
  for (let i = 0; i < images.length; i++) {
    const img = images[i]!;
    if (!img.executable) continue;
    const exe = basename(img.executable);
    const severity: Severity = KNOWN_RETITLERS.has(exe) ? 'low' : 'medium';
    const argv0 = img.args?.[0] ? basename(img.args[0]).replace(/^-/, '') : undefined;
    const script = shebangScript(img.executable, img.args, img.name) ?? scriptArgument(img.args);
    const scriptBase = script ? basename(script) : undefined;
    const expected = [exe, argv0, scriptBase].filter((x): x is string => !!x);
    const fits = (name: string) => expected.some((e) => commOf(e) === commOf(name) || related(name, e));
    // comm at exec comes from the file name the kernel was given; a mismatch means it was changed, or the program
    // was started under another name (argv[0] / exec -a).
    if (img.name && !fits(img.name)) {
      f.add({
        rule: 'renamed-process',
        severity,
        technique: 'T1036.011',
        reason: `runs ${img.executable} but is named "${img.name}"`,
        nodes: [p.id],
        steps: [],
        at: img.at,
      });
    }
    if (argv0 && argv0 !== exe && !related(argv0, exe) && (!img.name || commOf(argv0) !== commOf(img.name)) && argv0 !== scriptBase) {
      f.add({
        rule: 'renamed-process',
        severity,
        technique: 'T1036.011',
        reason: `runs ${img.executable} with argv[0] "${img.args![0]}"`,
        nodes: [p.id],
        steps: [],
        at: img.at,
      });
    }
    // Renamed at run time (prctl(PR_SET_NAME) or a write to /proc/self/comm): a later leader-thread name that
    // fits none of the image's names, before the next exec.
    const until = images[i + 1]?.at;
    for (const n of p.names) {
      if (sortInstant(n.at, img.at) <= 0 || (until && sortInstant(n.at, until) >= 0)) continue;
      if (fits(n.name)) continue;
      f.add({
        rule: 'renamed-process',
        severity,
        technique: 'T1036.011',
        reason: `runs ${img.executable} but renamed itself to "${n.name}"`,
        nodes: [p.id],
        steps: [],
        at: n.at,
      });
    }
  }
}

/** python3 vs python3.12, pip vs pip3: a versioned name and its link, not a disguise ("npm ci" vs npm is). */
function related(a: string, b: string): boolean {
  const x = commOf(a);
  const y = commOf(b);
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  if (short.length < 2 || !long.startsWith(short)) return false;
  const rest = long.slice(short.length);
  return rest === '' || /^[-._]?\d[\w.]*$/.test(rest);
}
