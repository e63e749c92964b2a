/**
 * `provmon generate-activity`: runs the actions of a profile (normal, suspicious or mixed) for a while, in a
 * sandbox directory it removes at the end, and writes the ground truth as JSONL: one line per action with its time,
 * category, ATT&CK technique, the pids it started and the files and endpoints it touched.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTIONS, type Action, type Category } from './actions.ts';

export type Profile = 'normal' | 'suspicious' | 'mixed';

export interface ManifestEntry {
  time: string;
  category: Category;
  action: string;
  technique?: string;
  pids: number[];
  files: string[];
  endpoints: string[];
  ok: boolean;
}

export interface GenerateOptions {
  profile: Profile;
  /** keep going (rounds of the profile's actions, a pause between) until this many seconds passed; 0 = one round */
  durationS: number;
  /** the JSONL manifest; written line by line, so an interrupted run keeps what it did */
  manifest?: string;
  onEntry?: (entry: ManifestEntry) => void;
  /** stop early (SIGINT) */
  signal?: AbortSignal;
}

export function actionsOf(profile: Profile): Action[] {
  return ACTIONS.filter((a) => profile === 'mixed' || a.category === profile);
}

export async function generateActivity(o: GenerateOptions): Promise<ManifestEntry[]> {
  const sandbox = mkdtempSync(join(tmpdir(), 'provmon-activity-'));
  if (o.manifest) writeFileSync(o.manifest, '');
  // The generator's own loopback listener: the target of local HTTP and of the exfiltration.
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: async (req) => (await req.arrayBuffer(), new Response('ok\n')) });
  const env = { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8', HOME: sandbox };
  const entries: ManifestEntry[] = [];
  const until = Date.now() + o.durationS * 1000;
  try {
    do {
      for (const action of actionsOf(o.profile)) {
        if (o.signal?.aborted) return entries;
        const time = new Date().toISOString();
        const r = await action.run({ sandbox, httpPort: server.port!, env });
        const entry: ManifestEntry = { time, category: action.category, action: action.name, ...(action.technique ? { technique: action.technique } : {}), ...r };
        entries.push(entry);
        if (o.manifest) appendFileSync(o.manifest, `${JSON.stringify(entry)}\n`);
        o.onEntry?.(entry);
      }
      if (Date.now() < until) await Bun.sleep(Math.min(1000, Math.max(0, until - Date.now())));
    } while (Date.now() < until && !o.signal?.aborted);
    return entries;
  } finally {
    server.stop(true);
    rmSync(sandbox, { recursive: true, force: true });
  }
}
