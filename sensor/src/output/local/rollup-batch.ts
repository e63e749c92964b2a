/**
 * The writer's side of `rollup` (event-index.ts): one transaction's rows counted per minute, JSONL file and events
 * search key, then added to the table in one upsert per group.
 */
import type { Statement } from 'bun:sqlite';
import { EVENT_COLUMNS, ROLLUP_KEYS, ROLLUP_MINUTE_MS } from './event-index.ts';
import { ROW_FILE, ROW_HOST, ROW_STREAM } from './index-protocol.ts';

/** Where each rollup key sits in a flat row ('' / -1 for an absent value: sqlite's NULLs are never equal in a key). */
const FIELDS = ROLLUP_KEYS.map((k) => ({ at: EVENT_COLUMNS.indexOf(k), absent: k === 'pid' || k === 'ppid' ? -1 : '' }));
const TS = EVENT_COLUMNS.indexOf('ts');
/** stream, file, minute, then ROLLUP_KEYS: the upsert's parameters before `n` */
const KEY_LENGTH = 3 + FIELDS.length;
/** Groups remembered for a comparison before the keyed lookup: a batch mostly repeats a few processes' actions. */
const RECENT = 8;

interface Group {
  key: unknown[];
  n: number;
}

function sameKey(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < KEY_LENGTH; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class RollupBatch {
  /** by the key's JSON text: the one place a group lives, whichever way it was found */
  private readonly groups = new Map<string, Group>();
  private readonly recent: Group[] = [];
  private next = 0;
  private readonly key: unknown[] = new Array(KEY_LENGTH);

  /** Counts the row at `b` of `flat` (index-protocol's layout); `host`: its host number. */
  add(flat: unknown[], b: number, host: number): void {
    const key = this.key;
    key[0] = flat[b + ROW_STREAM];
    key[1] = flat[b + ROW_FILE];
    key[2] = Math.floor((flat[b + TS] as number) / ROLLUP_MINUTE_MS);
    for (let i = 0; i < FIELDS.length; i++) {
      const f = FIELDS[i]!;
      key[3 + i] = f.at === ROW_HOST ? host : (flat[b + f.at] ?? f.absent);
    }
    // Equal values (===) always have equal JSON text, so a group found here is the one the map holds.
    for (let g = 0; g < this.recent.length; g++) {
      const group = this.recent[g]!;
      if (sameKey(group.key, key)) {
        group.n++;
        return;
      }
    }
    const text = JSON.stringify(key);
    let group = this.groups.get(text);
    if (!group) this.groups.set(text, (group = { key: key.slice(), n: 0 }));
    group.n++;
    this.recent[this.next] = group;
    this.next = (this.next + 1) % RECENT;
  }

  /** Adds the counts to the table (inside the caller's transaction). */
  write(upsert: Statement): void {
    for (const { key, n } of this.groups.values()) upsert.run(...(key as Parameters<Statement['run']>), n);
  }
}
