/**
 * A throwaway single-node Elasticsearch for tests and local development.
 *
 * The node is the integ-test-zip distribution that Elasticsearch publishes as a Maven artifact
 * (server core, transport-netty4, apm, x-pack core + security; no bundled JDK). It is fetched with
 * the user's own Maven (`mvn dependency:get`, which honours ~/.m2/settings.xml mirrors and proxies),
 * copied into the distribution cache (see distributionCacheDir), checked (pinned SHA-256, zip
 * structure, CRC of every entry) and extracted once.
 *
 * Each node gets its own directory under `${TMPDIR:-/tmp}/provmon-es/<name>-<port>/` (config copy,
 * data, logs, tmp), listens on 127.0.0.1 only, and runs as an unprivileged user: `provmon-es` when
 * we are root (Elasticsearch refuses to run as root), else the current user. As root, the node's
 * distribution and directories live outside the clone, in places that user can reach, so a clone in
 * a private directory (e.g. under /root) works without loosening anyone's permissions.
 * A state file per running node in `.cache/es/nodes/<name>.json` (mode 0600) lets a separate
 * process (`npm run es:stop`) find and stop it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  createReadStream,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  realpathSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ProvmonError } from '../../sensor/src/errors.ts';

export const ES_VERSION = '8.19.9';
export const ES_ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
/**
 * SHA-256 of elasticsearch-8.19.9.zip. The Maven repository serves this artifact without checksum
 * files, so Maven cannot verify it ("Checksum validation failed, no checksums available"); the hash
 * is pinned here instead (two independent downloads agreed). Change it together with ES_VERSION.
 */
export const ES_ZIP_SHA256 = '6a0603db2b0406776dcf15df248294941f310e9183ca18a219bc8c6d57546ff0';
/** The system user Elasticsearch runs as when provmon is run as root. */
export const ES_SYSTEM_USER = 'provmon-es';
export const REPO_ROOT = resolve(import.meta.dir, '../..');
/** The root-owned, world-readable distribution cache used as root (shared by every clone on the host). */
export const SYSTEM_CACHE_DIR = '/var/cache/provmon/es';

/**
 * Where the distribution is fetched and extracted. As root the node runs as provmon-es, which may not
 * be able to reach the clone (a clone under /root, a mode-700 temp dir), so the distribution goes to
 * SYSTEM_CACHE_DIR; as another user the node runs as that user, and the clone's .cache/es/ is fine.
 * PROVMON_ES_CACHE_DIR overrides both.
 */
export function distributionCacheDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.PROVMON_ES_CACHE_DIR) return resolve(env.PROVMON_ES_CACHE_DIR);
  return uid === 0 ? SYSTEM_CACHE_DIR : join(REPO_ROOT, '.cache', 'es');
}

export const CACHE_DIR = distributionCacheDir();
/** State files stay in the clone: only the user who runs es-node reads them (they may hold a password). */
export const NODES_STATE_DIR = join(REPO_ROOT, '.cache', 'es', 'nodes');
/** Written into the extracted tree as the very last step, so a half-extracted tree is detected and redone. */
export const EXTRACTED_MARKER = '.provmon-extracted';
const MIN_JAVA = 17;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;

export type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`[es-node] ${line}\n`);

export interface EsNode {
  name: string;
  url: string;
  security: boolean;
  username?: 'elastic';
  password?: string;
  pid: number;
  dir: string;
  port: number;
  /** The node's console output (launcher stdout + stderr); the server log is beside it. */
  logFile: string;
  stateFile: string;
  /** SIGTERM, wait up to ~20 s, then SIGKILL; removes the node directory unless keepDir. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface StartOptions {
  name?: string;
  security?: boolean;
  password?: string;
  port?: number;
  heap?: string;
  settings?: Record<string, string | number | boolean>;
  /** How long to wait for yellow health. Default 120 s. */
  startTimeoutMs?: number;
  /** Stop this node when the process with this pid is gone (see reapOrphanedNodes). Test nodes set it. */
  ownerPid?: number;
  /** Aborting kills the node that is starting and removes its directory. */
  signal?: AbortSignal;
  log?: Log;
}

/** What `.cache/es/nodes/<name>.json` holds. Mode 0600: it may hold the elastic password. */
export interface NodeState {
  name: string;
  pid: number;
  pgid: number;
  url: string;
  port: number;
  transportPort: number;
  security: boolean;
  username?: 'elastic';
  password?: string;
  dir: string;
  logFile: string;
  esVersion: string;
  startedAt: string;
  /** The process that ran startNode; while pid is 0 (still starting) the state belongs to it. */
  starterPid: number;
  ownerPid?: number;
}

// ---------------------------------------------------------------------------------------------
// small process helpers

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { code: 127, stdout: '', stderr: `${cmd}: command not found` };
    throw r.error;
  }
  return { code: r.status ?? 128 + 9, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Async variant for long commands (mvn, unzip) so timers and signal handlers keep running. */
function runAsync(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') resolvePromise({ code: 127, stdout: '', stderr: `${cmd}: command not found` });
      else reject(e);
    });
    child.on('close', (code, sig) => resolvePromise({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), stdout, stderr }));
  });
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  // Admin tools (useradd) live in sbin, which a non-login root shell may not have on PATH.
  for (const dir of ['/usr/sbin', '/sbin']) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

function lastLines(text: string, n: number): string {
  const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trimEnd()).filter(Boolean);
  return lines.slice(-n).join('\n');
}

/** /proc/<pid>/stat fields after the command name: [state, ppid, pgrp, ...]. */
function procStat(pid: number): { state: string; pgrp: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = procStat(pid);
  return st === null ? true : st.state !== 'Z' && st.state !== 'X';
}

/** Live (non-zombie) members of a process group. */
function groupMembers(pgid: number): number[] {
  if (!Number.isInteger(pgid) || pgid <= 1) return [];
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return isAlive(pgid) ? [pgid] : [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(Number(e));
  }
  return out;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  // kill(-0) would be kill(0): our own process group. Only ever signal a real, positive group id.
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

// ---------------------------------------------------------------------------------------------
// the distribution: fetch with Maven, verify, extract once

/** Where Maven keeps the artifact: PROVMON_MAVEN_REPO_LOCAL (passed to mvn as -Dmaven.repo.local) or ~/.m2/repository. */
export function mavenRepoLocal(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROVMON_MAVEN_REPO_LOCAL ? resolve(env.PROVMON_MAVEN_REPO_LOCAL) : join(env.HOME || homedir(), '.m2', 'repository');
}

export function mavenZipPath(repoLocal = mavenRepoLocal()): string {
  return join(repoLocal, 'org/elasticsearch/distribution/integ-test-zip/elasticsearch', ES_VERSION, `elasticsearch-${ES_VERSION}.zip`);
}

export type ZipCheck = { ok: true } | { ok: false; reason: string };

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(h.digest('hex')));
  });
}

/**
 * Checks a zip: first the end-of-central-directory record (a truncated download has none, or one
 * pointing past the end), then the SHA-256 when one is expected, then `unzip -tqq`, which reads
 * every entry and checks its CRC.
 */
export async function verifyZip(path: string, opts: { full?: boolean; sha256?: string } = {}): Promise<ZipCheck> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    return { ok: false, reason: `cannot read it: ${(e as Error).message}` };
  }
  if (size < 22) return { ok: false, reason: `only ${size} bytes` };
  const tailLen = Math.min(size, 22 + 65535);
  const buf = Buffer.alloc(tailLen);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, tailLen, size - tailLen);
  } finally {
    closeSync(fd);
  }
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return { ok: false, reason: `no end-of-central-directory record in its last ${tailLen} bytes; the file is truncated or not a zip` };
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  const eocdAbs = size - tailLen + eocd;
  if (cdSize !== 0xffffffff && cdOffset !== 0xffffffff && cdOffset + cdSize > eocdAbs) {
    return { ok: false, reason: `its central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end of the ${size}-byte file` };
  }
  if (opts.full === false) return { ok: true };
  if (opts.sha256) {
    const actual = await sha256File(path);
    if (actual !== opts.sha256) return { ok: false, reason: `its SHA-256 is ${actual}, not the pinned ${opts.sha256}` };
  }
  const r = await runAsync(needUnzip(), ['-tqq', path]);
  if (r.code !== 0) {
    const detail = lastLines(`${r.stdout}\n${r.stderr}`, 3).replace(/\n/g, ' | ') || `unzip -t exited with ${r.code}`;
    return { ok: false, reason: detail };
  }
  return { ok: true };
}

function needUnzip(): string {
  const unzip = which('unzip');
  if (!unzip) {
    throw new ProvmonError('unzip is not installed; it is needed to check and extract the Elasticsearch distribution', {
      hint: 'apt-get install unzip',
    });
  }
  return unzip;
}

function isExtracted(home: string): boolean {
  return existsSync(join(home, EXTRACTED_MARKER)) && existsSync(join(home, 'bin', 'elasticsearch'));
}

/** A lock file holding the owner's pid; a lock whose owner is gone is taken over. */
async function withLock<T>(lockPath: string, log: Log, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = 0;
      let age = 0;
      try {
        owner = Number(readFileSync(lockPath, 'utf8').trim());
        age = Date.now() - statSync(lockPath).mtimeMs;
      } catch {
        continue; // vanished between open and read: try again
      }
      if ((owner > 0 && !isAlive(owner)) || (!owner && age > 10_000)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (!told) {
        log(`waiting for process ${owner || '?'} to finish preparing Elasticsearch (lock ${lockPath})`);
        told = true;
      }
      if (Date.now() > deadline) {
        throw new ProvmonError(`timed out waiting for the lock ${lockPath} held by process ${owner}`, {
          hint: `if no other provmon process is fetching Elasticsearch, delete ${lockPath}`,
        });
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) rmSync(lockPath, { force: true });
    } catch {
      /* gone */
    }
  }
}

async function fetchWithMaven(repoLocal: string, log: Log): Promise<void> {
  const mvn = which('mvn');
  if (!mvn) {
    throw new ProvmonError(`Maven (mvn) is not installed; it is needed to fetch the Elasticsearch test distribution ${ES_ARTIFACT}`, {
      hint: 'apt-get install maven',
    });
  }
  // Maven's default checksum policy: checksums are verified when the repository has them, and a
  // mismatch is retried/warned about. Strict mode (-C) cannot be used: this artifact is served without
  // checksum files ("Checksum validation failed, no checksums available"). Integrity is therefore
  // also checked here, with unzip -t (CRC of every entry), after every fetch.
  // -U: retry even if an earlier failure was cached in the local repository (*.lastUpdated).
  const args = ['-B', '-q', '-U', 'dependency:get', `-Dartifact=${ES_ARTIFACT}`, '-Dtransitive=false'];
  if (process.env.PROVMON_MAVEN_REPO_LOCAL) args.push(`-Dmaven.repo.local=${repoLocal}`);
  log(`fetching ${ES_ARTIFACT} with Maven (about 100 MB)`);
  const r = await runAsync(mvn, args);
  if (r.code !== 0) {
    throw new ProvmonError(`mvn could not fetch ${ES_ARTIFACT} (exit ${r.code}):\n${lastLines(`${r.stdout}\n${r.stderr}`, 15)}`, {
      hint: 'check network access to your Maven repository (mirrors and proxies go in ~/.m2/settings.xml), then retry',
    });
  }
}

/** Copies the artifact from the local Maven repository into cacheDir, fetching it first when needed. */
async function fetchIntoCache(cachedZip: string, repoLocal: string, log: Log): Promise<void> {
  const m2zip = mavenZipPath(repoLocal);
  if (existsSync(m2zip)) {
    const check = await verifyZip(m2zip, { sha256: ES_ZIP_SHA256 });
    if (!check.ok) {
      log(`zip ${m2zip} in the local Maven repository is corrupt (${check.reason}); deleting and fetching again`);
      rmSync(m2zip, { force: true });
    }
  }
  if (!existsSync(m2zip)) {
    await fetchWithMaven(repoLocal, log);
    if (!existsSync(m2zip)) {
      throw new ProvmonError(`mvn reported success but ${m2zip} does not exist`, {
        hint: 'if ~/.m2/settings.xml sets <localRepository>, point PROVMON_MAVEN_REPO_LOCAL at it',
      });
    }
    const check = await verifyZip(m2zip, { sha256: ES_ZIP_SHA256 });
    if (!check.ok) {
      throw new ProvmonError(`Maven fetched ${ES_ARTIFACT} but ${m2zip} is corrupt (${check.reason})`, {
        hint: `delete ${dirname(m2zip)} and retry; if it happens again, check your Maven mirror`,
      });
    }
  }
  const tmp = `${cachedZip}.tmp-${process.pid}`;
  copyFileSync(m2zip, tmp);
  if (statSync(tmp).size !== statSync(m2zip).size) {
    rmSync(tmp, { force: true });
    throw new ProvmonError(`copying ${m2zip} to ${cachedZip} produced a file of the wrong size`, { hint: 'check free disk space' });
  }
  chmodSync(tmp, 0o644);
  renameSync(tmp, cachedZip);
}

/**
 * Makes sure `<cacheDir>/elasticsearch-<version>/` holds a complete, extracted distribution and
 * returns its path. Fast (no zip reads) when the extraction marker is already there.
 */
export async function ensureDistribution(opts: { cacheDir?: string; log?: Log } = {}): Promise<string> {
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const log = opts.log ?? stderrLog;
  const home = join(cacheDir, `elasticsearch-${ES_VERSION}`);
  if (isExtracted(home)) return home;

  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0) openToOthers(cacheDir);
  return withLock(join(cacheDir, '.lock'), log, async () => {
    if (isExtracted(home)) return home; // another process finished while we waited
    const zip = join(cacheDir, `elasticsearch-${ES_VERSION}.zip`);
    if (existsSync(zip)) {
      const check = await verifyZip(zip, { sha256: ES_ZIP_SHA256 });
      if (!check.ok) {
        log(`cached zip ${zip} is corrupt (${check.reason}); deleting and fetching again`);
        rmSync(zip, { force: true });
      }
    }
    if (!existsSync(zip)) await fetchIntoCache(zip, mavenRepoLocal(), log);

    if (existsSync(home)) {
      log(`${home} has no ${EXTRACTED_MARKER} marker (an extraction was interrupted); extracting again`);
      rmSync(home, { recursive: true, force: true });
    }
    log(`extracting ${zip}`);
    const work = join(cacheDir, `.extract-${process.pid}-${randomBytes(4).toString('hex')}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { mode: 0o755 });
    try {
      const r = await runAsync(needUnzip(), ['-q', zip, '-d', work]);
      if (r.code !== 0) {
        throw new ProvmonError(`extracting ${zip} failed (unzip exit ${r.code}):\n${lastLines(`${r.stdout}\n${r.stderr}`, 10)}`, {
          hint: `check free disk space under ${cacheDir}; delete ${zip} to fetch it again`,
        });
      }
      const extracted = join(work, `elasticsearch-${ES_VERSION}`);
      if (!existsSync(join(extracted, 'bin', 'elasticsearch'))) {
        throw new ProvmonError(`${zip} does not contain elasticsearch-${ES_VERSION}/bin/elasticsearch`, { hint: `delete ${zip} to fetch it again` });
      }
      // The node runs as another user: everything must be world-readable, directories world-searchable.
      run('chmod', ['-R', 'a+rX', extracted]);
      writeFileSync(join(extracted, EXTRACTED_MARKER), `${JSON.stringify({ version: ES_VERSION, zip, extractedAt: new Date().toISOString() })}\n`, { mode: 0o644 });
      renameSync(extracted, home);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return home;
  });
}

// ---------------------------------------------------------------------------------------------
// the JDK

export interface Jdk {
  home: string;
  major: number;
  versionLine: string;
}

function javaMajor(javaBin: string): { major: number; line: string } | null {
  const r = run(javaBin, ['-version'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
  if (r.code !== 0) return null;
  const text = `${r.stderr}\n${r.stdout}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const first = Number(m[1]);
  const major = first === 1 ? Number(m[2]) : first; // "1.8.0" is Java 8
  return { major, line: text.split('\n').find((l) => l.includes('version')) ?? '' };
}

function debianArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

const jdkCache = new Map<string, Jdk>();

/**
 * The JDK for Elasticsearch 8.19 (Java 17+): ES_JAVA_HOME when set (it must be valid — no silent
 * fallback), else /usr/lib/jvm/java-17-openjdk-<arch>, else another JDK 17 under /usr/lib/jvm, else
 * the oldest JDK there that is newer than 17.
 */
export function findJdk(env: NodeJS.ProcessEnv = process.env, jvmDir = '/usr/lib/jvm'): Jdk {
  const fix = `apt-get install openjdk-17-jdk-headless, or set ES_JAVA_HOME to the home of a JDK ${MIN_JAVA} or newer`;
  const explicit = env.ES_JAVA_HOME;
  const key = explicit ?? `auto:${jvmDir}`;
  const cached = jdkCache.get(key);
  if (cached) return cached;

  if (explicit) {
    const java = join(explicit, 'bin', 'java');
    if (!existsSync(java)) {
      throw new ProvmonError(`ES_JAVA_HOME=${explicit} is not a JDK: ${java} does not exist`, {
        hint: `point ES_JAVA_HOME at a JDK ${MIN_JAVA}+ (e.g. /usr/lib/jvm/java-17-openjdk-${debianArch()}) or unset it to let provmon look in /usr/lib/jvm; ${fix}`,
      });
    }
    const v = javaMajor(java);
    if (!v) throw new ProvmonError(`ES_JAVA_HOME=${explicit}: \`${java} -version\` failed or printed no version`, { hint: fix });
    if (v.major < MIN_JAVA) {
      throw new ProvmonError(`ES_JAVA_HOME=${explicit} is Java ${v.major}; Elasticsearch ${ES_VERSION} needs Java ${MIN_JAVA} or newer`, { hint: fix });
    }
    const jdk = { home: explicit, major: v.major, versionLine: v.line };
    jdkCache.set(key, jdk);
    return jdk;
  }

  const preferred = join(jvmDir, `java-17-openjdk-${debianArch()}`);
  const candidates = [preferred];
  try {
    for (const e of readdirSync(jvmDir).sort()) {
      const p = join(jvmDir, e);
      if (p !== preferred && !e.startsWith('.')) candidates.push(p);
    }
  } catch {
    /* no /usr/lib/jvm */
  }
  const found: Jdk[] = [];
  const seen = new Set<string>();
  for (const home of candidates) {
    const java = join(home, 'bin', 'java');
    if (!existsSync(java)) continue;
    let real = java;
    try {
      real = realpathSync(java);
    } catch {
      /* keep */
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const v = javaMajor(java);
    if (!v || v.major < MIN_JAVA) continue;
    found.push({ home, major: v.major, versionLine: v.line });
    if (v.major === MIN_JAVA) break; // the documented choice; no need to look further
  }
  const best = found.find((j) => j.major === MIN_JAVA) ?? found.sort((a, b) => a.major - b.major)[0];
  if (!best) {
    throw new ProvmonError(
      `no JDK ${MIN_JAVA}+ found for Elasticsearch ${ES_VERSION}: ES_JAVA_HOME is not set and neither ${preferred}/bin/java nor any other ${jvmDir}/*/bin/java is Java ${MIN_JAVA} or newer`,
      { hint: fix },
    );
  }
  jdkCache.set(key, best);
  return best;
}

// ---------------------------------------------------------------------------------------------
// the unprivileged user

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  /** true when we are root and must switch to `user` with setpriv. */
  switchUser: boolean;
  setpriv?: string;
}

function lookupUser(name: string): { uid: number; gid: number } | null {
  const r = run('getent', ['passwd', name]);
  if (r.code !== 0) return null;
  const f = r.stdout.trim().split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export function resolveRunAs(log: Log = stderrLog): RunAs {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const name = run('id', ['-un']).stdout.trim() || process.env.USER || userInfo().username;
    return { user: name, uid, gid: process.getgid?.() ?? uid, switchUser: false };
  }
  let u = lookupUser(ES_SYSTEM_USER);
  if (!u) {
    const useradd = which('useradd');
    if (!useradd) {
      throw new ProvmonError(`running as root, and the user ${ES_SYSTEM_USER} does not exist and useradd is missing`, {
        hint: `create a system user ${ES_SYSTEM_USER} (apt-get install passwd provides useradd), or run as a non-root user`,
      });
    }
    log(`creating the system user ${ES_SYSTEM_USER} to run Elasticsearch (it refuses to run as root)`);
    const r = run(useradd, ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_SYSTEM_USER]);
    u = lookupUser(ES_SYSTEM_USER); // a concurrent useradd may have won the race: the user exists either way
    if (!u) {
      throw new ProvmonError(`could not create the system user ${ES_SYSTEM_USER} (useradd exit ${r.code}): ${lastLines(r.stderr, 3)}`, {
        hint: `create it by hand: useradd --system --no-create-home --shell /usr/sbin/nologin ${ES_SYSTEM_USER}`,
      });
    }
  }
  const setpriv = which('setpriv');
  if (!setpriv) {
    throw new ProvmonError('setpriv is missing; it is needed to run Elasticsearch as an unprivileged user', { hint: 'apt-get install util-linux' });
  }
  return { user: ES_SYSTEM_USER, uid: u.uid, gid: u.gid, switchUser: true, setpriv };
}

/** argv that runs cmd as the ES user (unchanged when we are not root). */
function asUser(runAs: RunAs, argv: string[]): [string, string[]] {
  if (!runAs.switchUser) return [argv[0]!, argv.slice(1)];
  return [runAs.setpriv ?? 'setpriv', [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--', ...argv]];
}

function chownTree(path: string, runAs: RunAs): void {
  if (!runAs.switchUser) return;
  const r = run('chown', ['-R', `${runAs.uid}:${runAs.gid}`, path]);
  if (r.code !== 0) throw new ProvmonError(`chown -R ${runAs.user} ${path} failed: ${lastLines(r.stderr, 3)}`);
}

// ---------------------------------------------------------------------------------------------
// ports

function bindProbe(port: number): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolvePromise) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolvePromise(e));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : port;
      srv.close(() => resolvePromise(got));
    });
  });
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export async function freePort(): Promise<number> {
  const r = await bindProbe(0);
  if (typeof r !== 'number') throw r;
  return r;
}

async function assertPortFree(port: number): Promise<void> {
  const r = await bindProbe(port);
  if (typeof r === 'number') return;
  if (r.code === 'EADDRINUSE') {
    throw new ProvmonError(`port ${port} on 127.0.0.1 is in use by another process`, {
      hint: `pick another port, or leave the port out to get a free one (see who holds it: ss -ltnp 'sport = :${port}')`,
    });
  }
  if (r.code === 'EACCES') {
    throw new ProvmonError(`port ${port} on 127.0.0.1 cannot be bound by this user (${r.message})`, { hint: 'use a port above 1023' });
  }
  throw r;
}

// ---------------------------------------------------------------------------------------------
// state files

function statePath(name: string): string {
  return join(NODES_STATE_DIR, `${name}.json`);
}

function writeState(state: NodeState): string {
  mkdirSync(NODES_STATE_DIR, { recursive: true, mode: 0o700 });
  chmodSync(NODES_STATE_DIR, 0o700);
  const p = statePath(state.name);
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, p);
  return p;
}

export function readState(name: string): NodeState | null {
  try {
    return JSON.parse(readFileSync(statePath(name), 'utf8')) as NodeState;
  } catch {
    return null;
  }
}

export function listStates(): NodeState[] {
  let files: string[];
  try {
    files = readdirSync(NODES_STATE_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.map((f) => readState(f.slice(0, -5))).filter((s): s is NodeState => s !== null);
}

function removeState(state: NodeState): void {
  // Only remove the file if it still describes this node (a new node of the same name may have replaced it).
  const cur = readState(state.name);
  if (cur && cur.dir === state.dir && cur.startedAt === state.startedAt) rmSync(statePath(state.name), { force: true });
}

/** True when pid is the Elasticsearch launched for this state (guards against pid reuse). */
function isOurNode(state: NodeState): boolean {
  if (!isAlive(state.pid)) return false;
  try {
    const environ = readFileSync(`/proc/${state.pid}/environ`, 'utf8');
    return environ.split('\0').includes(`ES_PATH_CONF=${join(state.dir, 'config')}`);
  } catch {
    try {
      return readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes('elasticsearch');
    } catch {
      return false;
    }
  }
}

/** Is the node described by this state file still running? */
export function isRunning(state: NodeState): boolean {
  return isOurNode(state);
}

/** Is this state file a node that another live process is still setting up (no pid yet)? */
export function isStarting(state: NodeState): boolean {
  return state.pid === 0 && state.starterPid !== process.pid && isAlive(state.starterPid);
}

// ---------------------------------------------------------------------------------------------
// stopping

/**
 * Stops a node: SIGTERM to the launcher (which stops the server JVM), wait up to timeoutMs for the
 * whole process group to go, then SIGKILL the group. Removes the state file, and the node
 * directory unless keepDir.
 */
export async function stopNodeByState(state: NodeState, opts: { keepDir?: boolean; timeoutMs?: number; log?: Log } = {}): Promise<void> {
  const log = opts.log ?? stderrLog;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  if (isOurNode(state)) {
    // SIGTERM to the launcher only: it stops the server JVM (its child, same group) cleanly and exits.
    try {
      process.kill(state.pid, 'SIGTERM');
    } catch {
      /* just exited */
    }
    const deadline = Date.now() + timeoutMs;
    while (groupMembers(state.pgid).length > 0 && Date.now() < deadline) await sleep(200);
    if (groupMembers(state.pgid).length > 0) {
      log(`node ${state.name} (pid ${state.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s of SIGTERM; sending SIGKILL`);
      signalGroup(state.pgid, 'SIGKILL');
      const killDeadline = Date.now() + 5_000;
      while (groupMembers(state.pgid).length > 0 && Date.now() < killDeadline) await sleep(100);
    }
  } else if (state.pid > 1 && state.pgid === state.pid && !isAlive(state.pid) && groupMembers(state.pgid).length > 0) {
    // The launcher is gone but something in its group survived (should not happen): clean it up.
    signalGroup(state.pgid, 'SIGKILL');
  }
  removeState(state);
  if (!opts.keepDir) rmSync(state.dir, { recursive: true, force: true });
}

/** Synchronous last resort (process 'exit' handlers): SIGKILL the group, remove state file and directory. */
export function killNodeSync(state: NodeState, opts: { keepDir?: boolean } = {}): void {
  if (isOurNode(state)) signalGroup(state.pgid, 'SIGKILL');
  removeState(state);
  if (!opts.keepDir) {
    try {
      rmSync(state.dir, { recursive: true, force: true });
    } catch {
      /* a dying JVM may still be writing; best effort */
    }
  }
}

/**
 * Cleans up after test processes that died without stopping their nodes (SIGKILLed runs): nodes
 * whose ownerPid is gone are stopped, and their leftover state files and directories removed.
 * Nodes without an owner (started by `es:start`) are left alone.
 */
export async function reapOrphanedNodes(log: Log = stderrLog): Promise<void> {
  for (const s of listStates()) {
    if (s.ownerPid === undefined || isAlive(s.ownerPid) || isStarting(s)) continue;
    if (!isOurNode(s)) {
      removeState(s);
      rmSync(s.dir, { recursive: true, force: true });
    } else {
      log(`stopping node ${s.name} (pid ${s.pid}): the process ${s.ownerPid} that started it is gone`);
      await stopNodeByState(s, { log });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// starting

const ES_LOG_LINE = /^\[[^\]]+\]\[(\w+)\s*\]/;
const RELEVANT = /\b(ERROR|FATAL)\b|exception|caused by|can ?not|could not|error|fail|denied|refused|unable|required|minimum|invalid|unknown setting|illegal/i;

/** The last ~n lines of the node's output that say what went wrong (falls back to the last n lines). */
export function relevantLogLines(dir: string, n = 20): string {
  const sources = [join(dir, 'logs', 'console.log')];
  try {
    for (const f of readdirSync(join(dir, 'logs'))) if (f.endsWith('.log') && f !== 'console.log' && !f.startsWith('gc')) sources.push(join(dir, 'logs', f));
  } catch {
    /* no logs dir */
  }
  let lines: string[] = [];
  for (const src of sources) {
    try {
      const text = readFileSync(src, 'utf8');
      lines = text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
      if (lines.length > 0) break;
    } catch {
      /* missing */
    }
  }
  if (lines.length === 0) return '(the node wrote no log output)';
  // Lines in Elasticsearch's own format are judged by their level; anything else (launcher and JVM
  // output, "Caused by", shell errors) by its words. Stack frames are skipped.
  const level = (l: string): string | undefined => ES_LOG_LINE.exec(l)?.[1];
  let pick = lines.filter((l) => {
    const lv = level(l);
    return lv ? lv === 'ERROR' || lv === 'FATAL' : RELEVANT.test(l) && !/^\s*(at \S+\(|\.\.\. \d+ more)/.test(l);
  });
  if (pick.length === 0) pick = lines.filter((l) => level(l) === 'WARN');
  if (pick.length === 0) pick = lines;
  return pick.slice(-n).map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)).join('\n');
}

function yamlValue(v: string | number | boolean): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function validate(opts: StartOptions): void {
  if (opts.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(opts.name)) {
    throw new ProvmonError(`invalid node name ${JSON.stringify(opts.name)}`, { hint: 'use letters, digits, ".", "_" and "-" (it becomes a directory and file name)' });
  }
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) {
    throw new ProvmonError(`invalid port ${opts.port}`, { hint: 'a port is an integer from 1 to 65535' });
  }
  if (opts.heap !== undefined && !/^\d+[kmgKMG]$/.test(opts.heap)) {
    throw new ProvmonError(`invalid heap size ${JSON.stringify(opts.heap)}`, { hint: 'use a JVM size such as 512m or 1g' });
  }
  if (opts.password !== undefined) {
    if (opts.password.length < 6) throw new ProvmonError('the elastic password must be at least 6 characters (an Elasticsearch rule)');
    if (/[\r\n]/.test(opts.password)) throw new ProvmonError('the elastic password must not contain line breaks');
  }
  for (const k of Object.keys(opts.settings ?? {})) {
    if (!/^[A-Za-z0-9_.\-[\]]+$/.test(k)) throw new ProvmonError(`invalid setting name ${JSON.stringify(k)}`);
  }
}

/** Can the ES user read the distribution and run the JDK? (Every parent directory must be searchable.) */
function checkAccess(runAs: RunAs, esHome: string, jdk: Jdk): void {
  if (!runAs.switchUser) return;
  const [cmd, args] = asUser(runAs, ['test', '-r', join(esHome, 'lib'), '-a', '-x', join(esHome, 'bin', 'elasticsearch'), '-a', '-x', join(jdk.home, 'bin', 'java')]);
  if (run(cmd, args).code !== 0) {
    throw new ProvmonError(`user ${runAs.user} cannot read ${esHome} or run ${jdk.home}/bin/java`, {
      hint: `every parent directory of ${esHome} and of the JDK must be searchable by others (chmod o+x), and the files readable; PROVMON_ES_CACHE_DIR chooses another place for the distribution`,
    });
  }
}

/**
 * Everything a node start needs except the start itself: the JDK, the verified and extracted
 * distribution, the unprivileged user (created when root) and its access to both. Idempotent;
 * well under a second when already done. `scripts/ensure.sh` runs it (cli.ts prepare).
 */
export async function prepare(log: Log = stderrLog): Promise<{ esHome: string; jdk: Jdk; runAs: RunAs }> {
  const jdk = findJdk();
  const esHome = await ensureDistribution({ log });
  const runAs = resolveRunAs(log);
  checkAccess(runAs, esHome, jdk);
  return { esHome, jdk, runAs };
}

/** True when every existing directory from / down to path is searchable by others (o+x). */
export function searchableByOthers(path: string): boolean {
  let p = resolve(path);
  for (;;) {
    try {
      if ((statSync(p).mode & 0o001) === 0) return false;
    } catch {
      /* not created yet: its creator decides its mode */
    }
    const up = dirname(p);
    if (up === p) return true;
    p = up;
  }
}

/**
 * Makes the directories we created on the way to dir (root-owned, under a system path) searchable by
 * others, so the unprivileged node user can reach the distribution. Directories owned by someone
 * else are left alone.
 */
function openToOthers(dir: string): void {
  for (let p = resolve(dir); p !== dirname(p) && p.startsWith('/var/cache/provmon'); p = dirname(p)) {
    try {
      const st = statSync(p);
      if (st.uid === 0 && (st.mode & 0o005) !== 0o005) chmodSync(p, st.mode | 0o005);
    } catch {
      /* gone */
    }
  }
}

/**
 * Node base directory: ${TMPDIR:-/tmp}/provmon-es. When the node runs as another user (we are root)
 * and TMPDIR sits in a directory that user cannot search (a private temp dir), /tmp/provmon-es is
 * used instead: the node's own directory is mode 0700 and owned by that user either way.
 */
export function nodesBaseDir(opts: { switchUser?: boolean } = {}): string {
  const base = join(process.env.TMPDIR || tmpdir() || '/tmp', 'provmon-es');
  if (opts.switchUser && !searchableByOthers(dirname(base))) return '/tmp/provmon-es';
  return base;
}

/**
 * Starts a single-node Elasticsearch on 127.0.0.1 and resolves once the cluster is yellow.
 * The process is detached (own session): it outlives the caller unless stop() is called.
 */
export async function startNode(opts: StartOptions = {}): Promise<EsNode> {
  // A port found free can be taken by someone else before Elasticsearch binds it (a shared machine):
  // with ports we chose ourselves, that is retried with new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNodeOnce(opts);
    } catch (e) {
      if (!(e instanceof PortRaceError) || opts.port !== undefined || attempt >= 3) throw e;
      rmSync(e.dir, { recursive: true, force: true });
      (opts.log ?? stderrLog)(`a port chosen for node ${opts.name ?? 'dev'} was taken before Elasticsearch could bind it; retrying with new ports`);
    }
  }
}

class PortRaceError extends ProvmonError {
  constructor(
    message: string,
    readonly dir: string,
    options: { hint?: string },
  ) {
    super(message, options);
  }
}

async function startNodeOnce(opts: StartOptions): Promise<EsNode> {
  validate(opts);
  const log = opts.log ?? stderrLog;
  const name = opts.name ?? 'dev';
  const security = opts.security ?? false;
  const heap = opts.heap ?? '512m';
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

  // Cheap checks first, so a bad environment fails in milliseconds.
  const jdk = findJdk();
  if (opts.port !== undefined) await assertPortFree(opts.port);
  const existing = readState(name);
  if (existing) {
    if (isOurNode(existing)) {
      throw new ProvmonError(`an Elasticsearch node named ${name} is already running at ${existing.url} (pid ${existing.pid})`, {
        hint: `stop it first (npm run es:stop -- --name ${name}) or choose another --name`,
      });
    }
    if (isStarting(existing)) {
      throw new ProvmonError(`an Elasticsearch node named ${name} is being started by process ${existing.starterPid}`, {
        hint: 'wait for it, or choose another --name',
      });
    }
    removeState(existing);
    rmSync(existing.dir, { recursive: true, force: true });
  }
  const esHome = await ensureDistribution({ log });
  const runAs = resolveRunAs(log);
  if (runAs.switchUser && opts.port !== undefined && opts.port < 1024) {
    throw new ProvmonError(`port ${opts.port} is privileged, and Elasticsearch runs as the unprivileged user ${runAs.user}`, { hint: 'use a port above 1023' });
  }
  const port = opts.port ?? (await freePort());
  let transportPort = await freePort();
  while (transportPort === port) transportPort = await freePort();

  checkAccess(runAs, esHome, jdk);

  const base = nodesBaseDir({ switchUser: runAs.switchUser });
  const dir = join(base, `${name}-${port}`);
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'logs', 'console.log');
  const password = security ? (opts.password ?? randomBytes(18).toString('base64url')) : undefined;
  // The state file comes first (pid 0 = starting, with the starter's pid), so that a process killed
  // at any point leaves something reapOrphanedNodes can find and clean up.
  const state: NodeState = {
    name,
    pid: 0,
    pgid: 0,
    starterPid: process.pid,
    url,
    port,
    transportPort,
    security,
    ...(security ? { username: 'elastic' as const, password } : {}),
    dir,
    logFile,
    esVersion: ES_VERSION,
    startedAt: new Date().toISOString(),
    ...(opts.ownerPid !== undefined ? { ownerPid: opts.ownerPid } : {}),
  };
  const stateFile = writeState(state);

  let child: ChildProcess;
  try {
    // Per-node directory: config copy, data, logs, tmp; owned by the ES user, mode 0700.
    mkdirSync(base, { recursive: true, mode: 0o755 });
    try {
      if (statSync(base).uid === (process.getuid?.() ?? -1)) chmodSync(base, 0o755);
    } catch {
      /* not ours */
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    const confDir = join(dir, 'config');
    for (const sub of ['data', 'logs', 'tmp']) mkdirSync(join(dir, sub), { mode: 0o700 });
    mkdirSync(confDir, { mode: 0o700 });
    for (const f of readdirSync(join(esHome, 'config'))) {
      if (statSync(join(esHome, 'config', f)).isFile()) copyFileSync(join(esHome, 'config', f), join(confDir, f));
    }

    const settings: Record<string, string | number | boolean> = {
      'cluster.name': `provmon-${name}`,
      'node.name': name,
      'discovery.type': 'single-node',
      'network.host': '127.0.0.1',
      'http.port': port,
      'transport.port': transportPort,
      'path.data': join(dir, 'data'),
      'path.logs': join(dir, 'logs'),
      'xpack.security.enabled': security,
      'cluster.routing.allocation.disk.threshold_enabled': false,
      'action.destructive_requires_name': false,
      ...(security ? { 'xpack.security.http.ssl.enabled': false } : {}),
      ...(opts.settings ?? {}),
    };
    writeFileSync(
      join(confDir, 'elasticsearch.yml'),
      `# written by provmon scripts/es-node/node.ts\n${Object.entries(settings).map(([k, v]) => `${k}: ${yamlValue(v)}`).join('\n')}\n`,
    );
    const out = openSync(logFile, 'a', 0o600);
    chownTree(dir, runAs);

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: dir,
      ES_HOME: esHome,
      ES_JAVA_HOME: jdk.home,
      ES_PATH_CONF: confDir,
      ES_TMPDIR: join(dir, 'tmp'),
      ES_JAVA_OPTS: `-Xms${heap} -Xmx${heap}`,
    };

    try {
      if (security) {
        const ks = join(esHome, 'bin', 'elasticsearch-keystore');
        for (const [argv, input] of [
          [[ks, 'create'], undefined],
          [[ks, 'add', '-x', 'bootstrap.password'], `${password}\n`],
        ] as const) {
          const [cmd, args] = asUser(runAs, [...argv]);
          const r = run(cmd, args, { env, cwd: dir, ...(input ? { input } : {}) });
          if (r.code !== 0) {
            throw new ProvmonError(`elasticsearch-keystore ${argv.slice(1).join(' ')} failed (exit ${r.code}):\n${lastLines(`${r.stdout}\n${r.stderr}`, 20)}`, {
              hint: `JDK ${jdk.home}; ES home ${esHome}`,
            });
          }
        }
      }
      log(`starting Elasticsearch ${ES_VERSION} node ${name} on 127.0.0.1:${port} (security ${security ? 'on' : 'off'}, heap ${heap}, user ${runAs.user}, JDK ${jdk.major} at ${jdk.home})`);
      const [cmd, args] = asUser(runAs, [join(esHome, 'bin', 'elasticsearch')]);
      child = spawn(cmd, args, { cwd: dir, env, detached: true, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    if (child.pid === undefined) throw new ProvmonError(`could not start ${join(esHome, 'bin', 'elasticsearch')}`, { hint: `see ${logFile}` });
  } catch (e) {
    removeState(state);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const pid = child.pid;
  // No await between spawn and this write: a signal handler always sees either no process or its pid.
  state.pid = pid;
  state.pgid = pid;
  writeState(state);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', () => undefined);
  child.unref();
  const confDir = join(dir, 'config');

  const fail = async (message: string, hint: string): Promise<never> => {
    signalGroup(pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while (groupMembers(pid).length > 0 && Date.now() < deadline) await sleep(100);
    const excerpt = relevantLogLines(dir);
    removeState(state);
    const full = `${message}\n--- last lines of the node's log (${logFile}) ---\n${excerpt}`;
    if (/Bind(Http|Transport)Exception[\s\S]*Address already in use|Address already in use[\s\S]*Bind(Http|Transport)Exception/.test(excerpt)) {
      throw new PortRaceError(full, dir, { hint });
    }
    throw new ProvmonError(full, { hint });
  };

  const headers: Record<string, string> = { accept: 'application/json' };
  if (security) headers.authorization = `Basic ${Buffer.from(`elastic:${password}`).toString('base64')}`;
  const deadline = Date.now() + startTimeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (opts.signal?.aborted) {
      signalGroup(pid, 'SIGKILL');
      removeState(state);
      rmSync(dir, { recursive: true, force: true });
      throw new ProvmonError(`start of node ${name} was interrupted`, { exitCode: 130 });
    }
    const gone = exited as { code: number | null; signal: NodeJS.Signals | null } | null;
    if (gone || !isAlive(pid)) {
      const how = gone ? (gone.signal ? `was killed by ${gone.signal}` : `exited with code ${gone.code}`) : 'exited';
      return fail(`Elasticsearch node ${name} ${how} before it became healthy`, `full logs in ${join(dir, 'logs')} (kept for inspection; delete the directory when done)`);
    }
    if (Date.now() > deadline) {
      return fail(
        `Elasticsearch node ${name} did not reach yellow health within ${Math.round(startTimeoutMs / 1000)} s (last: ${lastProblem})`,
        `full logs in ${join(dir, 'logs')} (kept for inspection); on a slow machine pass a longer start timeout`,
      );
    }
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=2s`, { headers, signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.status === 200 && /"timed_out"\s*:\s*false/.test(body)) break;
      if (res.status === 401) {
        return fail(`Elasticsearch node ${name} rejected the elastic user's bootstrap password (HTTP 401)`, `the keystore in ${confDir} may be broken`);
      }
      lastProblem = `HTTP ${res.status} ${body.slice(0, 200)}`;
    } catch (e) {
      lastProblem = (e as Error).message;
    }
    await sleep(500);
  }

  log(`node ${name} is up at ${url} (pid ${pid}, dir ${dir})`);
  const node: EsNode = {
    name,
    url,
    security,
    ...(security ? { username: 'elastic' as const, password } : {}),
    pid,
    dir,
    port,
    logFile,
    stateFile,
    stop: (stopOpts = {}) => stopNodeByState(state, { log, ...stopOpts }),
  };
  return node;
}

/** Reads a state file into an EsNode handle (for a node started by another process). */
export function nodeFromState(state: NodeState, log: Log = stderrLog): EsNode {
  return {
    name: state.name,
    url: state.url,
    security: state.security,
    ...(state.security ? { username: 'elastic' as const, password: state.password } : {}),
    pid: state.pid,
    dir: state.dir,
    port: state.port,
    logFile: state.logFile,
    stateFile: statePath(state.name),
    stop: (o = {}) => stopNodeByState(state, { log, ...o }),
  };
}

export { statePath };
