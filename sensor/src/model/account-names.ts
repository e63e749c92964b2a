import { readFileSync, statSync } from 'node:fs';

export interface AccountNamesOptions {
  passwdPath?: string;
  groupPath?: string;
  /** How often the files' modification times are looked at, so an account added while running gets its name. */
  recheckMs?: number;
  /** Upper bound on ids remembered per file (a huge passwd file cannot grow the sensor without limit). */
  maxEntries?: number;
  now?: () => number;
}

interface IdFile {
  path: string;
  mtimeMs: number;
  names: Map<number, string>;
}

/**
 * user.name / group.name for numeric ids, from the host's /etc/passwd and /etc/group (the files, not NSS: a sensor
 * must not block on LDAP or SSSD in its hot path). An id neither file lists has no name: the document then carries
 * only user.id, never a guess. The files are re-read when their modification time changes, looked at no more often
 * than recheckMs.
 */
export class AccountNames {
  private readonly users: IdFile;
  private readonly groups: IdFile;
  private readonly recheckMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private checkedAt = -Infinity;
  /** Lines beyond maxEntries that were not remembered: counted, never silent. */
  skipped = 0;

  constructor(options: AccountNamesOptions = {}) {
    this.users = { path: options.passwdPath ?? '/etc/passwd', mtimeMs: -1, names: new Map() };
    this.groups = { path: options.groupPath ?? '/etc/group', mtimeMs: -1, names: new Map() };
    this.recheckMs = options.recheckMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  user(id: number): string | undefined {
    this.refresh();
    return this.users.names.get(id);
  }

  group(id: number): string | undefined {
    this.refresh();
    return this.groups.names.get(id);
  }

  private refresh(): void {
    const now = this.now();
    if (now - this.checkedAt < this.recheckMs) return;
    this.checkedAt = now;
    this.reload(this.users);
    this.reload(this.groups);
  }

  private reload(file: IdFile): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file.path).mtimeMs;
    } catch {
      file.names.clear(); // no such file (a minimal container): ids stay nameless
      file.mtimeMs = -1;
      return;
    }
    if (mtimeMs === file.mtimeMs) return;
    file.mtimeMs = mtimeMs;
    file.names = parseIdFile(readFileSync(file.path, 'utf8'), this.maxEntries, () => (this.skipped += 1));
  }
}

/** name:x:id:... lines (passwd(5), group(5)); the first name listed for an id wins, as getpwuid(3) does. */
export function parseIdFile(text: string, maxEntries = Infinity, onSkip: () => void = () => {}): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, , idText] = line.split(':', 3);
    const id = Number(idText);
    if (!name || idText === undefined || idText === '' || !Number.isInteger(id) || id < 0 || names.has(id)) continue;
    if (names.size >= maxEntries) {
      onSkip();
      continue;
    }
    names.set(id, name);
  }
  return names;
}
