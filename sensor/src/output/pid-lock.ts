import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock file holding its owner's pid, created with O_EXCL so two processes starting at once cannot both take it.
 * A lock whose owner is gone (kill -9, a crash) is taken over. Returns the live owner's pid when it is held.
 */
export function takePidLock(path: string): { owner: number } | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } catch {
        // O_EXCL made the lock ours; a full disk only keeps the pid out (others then see an empty, stale-looking lock)
      } finally {
        closeSync(fd);
      }
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // released between our open and read: try again
    }
    if (owner === process.pid) return undefined;
    // A lock created a moment ago may still be empty (its pid not yet written): look once more before calling it stale.
    if (pidAlive(owner)) return { owner };
    if ((Number.isNaN(owner) || owner === 0) && attempt === 0) {
      Bun.sleepSync(50);
      continue;
    }
    try {
      unlinkSync(path);
    } catch {
      // someone else took it over first; the next attempt sees theirs
    }
  }
  let owner = 0;
  try {
    owner = Number(readFileSync(path, 'utf8').trim());
  } catch {
    // unreadable: still held by someone we cannot name
  }
  return { owner };
}

/** Removes the lock if this process holds it. */
export function releasePidLock(path: string): void {
  try {
    if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path);
  } catch {
    // already gone
  }
}
