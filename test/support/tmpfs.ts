import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real tmpfs of `sizeKb` mounted on a fresh directory (needs root): a disk that really fills up. */
export function mountTmpfs(sizeKb: number): { dir: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'provmon-tmpfs-'));
  const mount = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  if (mount.exitCode !== 0) throw new Error(`mount tmpfs on ${dir}: ${mount.stderr.toString().trim()}`);
  return {
    dir,
    unmount: () => {
      Bun.spawnSync(['umount', '-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the file system holding `path` up to the last `leaveKb` (a filler file; delete it to free the space). */
export function fillDisk(path: string, leaveKb: number): void {
  const df = Bun.spawnSync(['df', '--output=avail', '-k', dirname(path)]).stdout.toString().trim().split('\n').pop()!;
  const avail = Number(df.trim());
  if (!Number.isFinite(avail)) throw new Error(`df ${dirname(path)}: ${df}`);
  const fill = Math.max(0, avail - leaveKb);
  const dd = Bun.spawnSync(['dd', 'if=/dev/zero', `of=${path}`, 'bs=1k', `count=${fill}`]);
  if (dd.exitCode !== 0 && fill > 0) throw new Error(`filling ${path}: ${dd.stderr.toString().trim()}`);
}
