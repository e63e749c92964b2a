/**
 * Path and program-name helpers shared by the builder, the tracker, reduction and the rules.
 * POSIX paths only (the sensor is Linux); no node:path, this file ships to the browser.
 */

export function basename(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return path.slice(0, i);
}

/** `path` is `dir` itself or inside it. `dir` is given without a trailing slash. */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** `/home/<user>/rest` or `/root/rest` → `rest`; anything else → undefined. */
export function homeRelative(path: string): string | undefined {
  if (path.startsWith('/root/')) return path.slice('/root/'.length);
  const m = /^\/home\/[^/]+\/(.+)$/.exec(path);
  return m ? m[1] : undefined;
}

/**
 * Locations any user (or the owning user) can write and that are classic payload staging areas.
 * Home directories count: an attacker with a user's shell can drop a binary there.
 */
export const WORLD_WRITABLE_DIRS = ['/tmp', '/var/tmp', '/dev/shm', '/run/shm', '/run/lock', '/var/lock'];

export function writableLocation(path: string): 'world-writable' | 'home' | undefined {
  if (WORLD_WRITABLE_DIRS.some((d) => isUnder(path, d))) return 'world-writable';
  if (/^\/run\/user\/\d+\//.test(path)) return 'home';
  if (homeRelative(path) !== undefined) return 'home';
  return undefined;
}

/**
 * Kernel pseudo-filesystems: /proc, /sys and device nodes. /dev/shm and /dev/mqueue are real tmpfs storage
 * (payloads get dropped there), so they are not pseudo.
 */
export function isPseudoPath(path: string): boolean {
  if (isUnder(path, '/dev/shm') || isUnder(path, '/dev/mqueue')) return false;
  return isUnder(path, '/proc') || isUnder(path, '/sys') || isUnder(path, '/dev');
}

export const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh', 'busybox', 'rbash']);

export type InterpreterFamily = 'shell' | 'python' | 'javascript' | 'perl' | 'ruby' | 'php' | 'lua' | 'tcl' | 'other';

/** The interpreter family of a program name (`python3.12` → python), or undefined for a non-interpreter. */
export function interpreterFamily(programName: string): InterpreterFamily | undefined {
  const name = programName.toLowerCase();
  if (SHELLS.has(name)) return 'shell';
  if (/^python(\d+(\.\d+)*)?$/.test(name) || name === 'pypy' || name === 'pypy3') return 'python';
  if (name === 'node' || name === 'nodejs' || name === 'bun' || name === 'deno') return 'javascript';
  if (/^perl(\d+(\.\d+)*)?$/.test(name)) return 'perl';
  if (/^ruby(\d+(\.\d+)*)?$/.test(name)) return 'ruby';
  if (/^php(\d+(\.\d+)*)?(-cli)?$/.test(name)) return 'php';
  if (/^lua(\d+(\.\d+)*)?$/.test(name) || name === 'luajit') return 'lua';
  if (name === 'tclsh' || name === 'wish' || name === 'expect') return 'tcl';
  if (name === 'osascript' || name === 'awk' || name === 'gawk' || name === 'mawk') return 'other';
  return undefined;
}

/**
 * The script an interpreter was started on, from its argv: the first argument that is not an option, when it
 * looks like a path. `bash -c '…'` / `python3 -c …` / `node -e …` run inline code, not a file: undefined.
 */
export function scriptArgument(args: string[] | undefined): string | undefined {
  if (!args || args.length < 2) return undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-c' || a === '-e' || a === '--eval' || a === '-m' || a === '--command') return undefined;
    if (a === '--') {
      const next = args[i + 1];
      return next && next.includes('/') ? next : undefined;
    }
    if (a.startsWith('-')) continue;
    return a.includes('/') ? a : undefined;
  }
  return undefined;
}

/**
 * The script of a shebang exec. `execve("/tmp/x.sh", ["/tmp/x.sh", …])` on a `#!/bin/bash` file runs /bin/bash:
 * the sensor (at syscall entry) reports the interpreter as the executable but the caller's argv, so argv[0] is the
 * script, not the interpreter; and the kernel names the task after the file it was given (comm = "x.sh").
 * `exec -a /x/y bash` also puts a path in argv[0], but then comm is "bash": the comm check tells them apart.
 * A script found through $PATH has no directory in argv[0]: not recoverable from the document.
 */
export function shebangScript(executable: string, args: string[] | undefined, comm: string | undefined): string | undefined {
  const argv0 = args?.[0];
  if (!argv0 || !argv0.includes('/') || argv0 === executable) return undefined;
  const name = basename(argv0);
  if (name === basename(executable) || interpreterFamily(name)) return undefined;
  if (comm !== undefined && commOf(name) !== commOf(comm)) return undefined;
  return argv0;
}

/** Joins a relative path onto a working directory (no symlink resolution: the sensor resolves what it can). */
export function resolvePath(path: string, cwd: string | undefined): string {
  if (path.startsWith('/')) return normalise(path);
  return cwd ? normalise(`${cwd}/${path}`) : path;
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** The kernel keeps 15 bytes of a task's comm. */
export const COMM_LEN = 15;

export function commOf(name: string): string {
  return name.slice(0, COMM_LEN);
}
