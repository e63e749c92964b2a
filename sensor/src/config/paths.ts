import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ProvmonError } from '../errors.ts';
import type { Config } from './schema.ts';

/** The seed's locations; used only when /var/monitoring already exists and is writable. */
export const SYSTEM_BASE = '/var/monitoring';

export interface ResolvedPaths {
  eventsDir: string;
  outputDir: string;
  /** Why each path was chosen, for the start-up log line. */
  reason: { eventsDir: string; outputDir: string };
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest existing ancestor decides whether mkdir -p can succeed. */
function creatable(dir: string): boolean {
  let probe = resolve(dir);
  while (!existsSync(probe)) {
    const parent = dirname(probe);
    if (parent === probe) return false;
    probe = parent;
  }
  return writable(probe);
}

/**
 * Explicit paths are used as given (and must be usable); defaults fall back from /var/monitoring to ./data
 * so that a fresh checkout runs without root-owned directories existing.
 */
export function resolvePaths(config: Config, options: { systemBase?: string; localBase?: string } = {}): ResolvedPaths {
  const systemBase = options.systemBase ?? SYSTEM_BASE;
  const localBase = resolve(options.localBase ?? 'data');
  const useSystem = writable(systemBase);
  const pick = (explicit: string | undefined, leaf: string, key: string): [string, string] => {
    if (explicit) {
      const dir = resolve(explicit);
      if (existsSync(dir) ? !writable(dir) : !creatable(dir)) {
        throw new ProvmonError(`${key} ${dir} is not writable by this user`, {
          hint: `choose another directory with --${key.replace('_', '-')} or fix its permissions`,
          exitCode: 2,
        });
      }
      return [dir, `configured ${key}`];
    }
    if (useSystem) return [resolve(systemBase, leaf), `${systemBase} exists and is writable`];
    return [resolve(localBase, leaf), `${systemBase} is absent or not writable, so the local default`];
  };
  const [eventsDir, eventsReason] = pick(config.events_dir, 'events', 'events_dir');
  const [outputDir, outputReason] = pick(config.output_dir, 'outputs', 'output_dir');
  return { eventsDir, outputDir, reason: { eventsDir: eventsReason, outputDir: outputReason } };
}

/** Creates a directory the sensor writes into; mode 0700 because events describe every process on the host. */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ProvmonError(`cannot create ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { exitCode: 2 });
  }
}
