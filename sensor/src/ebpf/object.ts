/**
 * The compiled BPF object: where it is and whether it was built from the sources beside it.
 * It is built at install time (scripts/ensure.sh, the package), never when the sensor starts:
 * a production host has no compiler. bpf/build.sh records the SHA-256 of every input next to
 * the object; a checkout whose sources changed since then gets a sentence naming the command
 * that rebuilds it instead of a sensor running stale kernel code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ProvmonError } from '../errors.ts';
import { bpfDir, IS_COMPILED } from '../install-layout.ts';

export const BPF_DIR = bpfDir();
export const DEFAULT_OBJECT = join(BPF_DIR, 'build/provmon.bpf.o');
/** `<object>.sources`: `sha256sum` lines of the inputs, paths relative to bpf/ */
export const sourcesFile = (objectPath: string) => `${objectPath}.sources`;

export interface StaleInput {
  path: string;
  reason: 'changed' | 'missing';
}

/** Inputs whose content differs from what the object was built from; [] when current or when no sources ship. */
export function staleInputs(objectPath: string): StaleInput[] {
  const record = sourcesFile(objectPath);
  if (!existsSync(record)) return [];
  const base = join(dirname(objectPath), '..');
  const stale: StaleInput[] = [];
  for (const line of readFileSync(record, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (!m) continue;
    const path = join(base, m[2]!);
    if (!existsSync(path)) {
      // an installed package ships the object without its sources: nothing to compare
      if (!existsSync(join(base, 'provmon.bpf.c'))) return [];
      stale.push({ path, reason: 'missing' });
      continue;
    }
    const hash = new Bun.CryptoHasher('sha256').update(readFileSync(path)).digest('hex');
    if (hash !== m[1]) stale.push({ path, reason: 'changed' });
  }
  return stale;
}

/** Throws when the object is missing or older than its sources. */
export function checkObject(objectPath: string): void {
  const rebuild = IS_COMPILED
    ? 'the provmon package ships it: reinstall it (apt-get install --reinstall provmon)'
    : `rebuild it with: bash ${join(BPF_DIR, 'build.sh')} (needs clang and libbpf-dev; scripts/ensure.sh run does it)`;
  if (!existsSync(objectPath)) {
    throw new ProvmonError(`eBPF object ${objectPath} not found: it is built at install time, not at run time`, { hint: rebuild });
  }
  const stale = staleInputs(objectPath);
  if (stale.length > 0) {
    throw new ProvmonError(
      `eBPF object ${objectPath} is stale: ${stale.map((s) => `${s.path} ${s.reason}`).join(', ')} since it was built`,
      { hint: rebuild },
    );
  }
}
