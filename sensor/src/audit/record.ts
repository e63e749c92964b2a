/**
 * One line of a Linux audit log → one record. Accepts the forms auditd and the kernel write:
 *   type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 ...        (auditd, log_format RAW)
 *   node=web1 type=SYSCALL msg=audit(...): ...                                     (name_format set, RHEL)
 *   type=SYSCALL msg=audit(...): ... \x1dARCH=x86_64 SYSCALL=execve AUID="alice"   (log_format ENRICHED)
 *   Dec  7 02:00:00 host kernel: [12.3] audit: type=1300 audit(1700000000.123:42): ... (kernel → syslog, numeric types)
 * A line that is not an audit record yields null and is counted by the caller; nothing here throws on input.
 */
import { typeName } from './record-types.ts';

export interface AuditRecord {
  /** SYSCALL, EXECVE, PATH… (numeric types from syslog are named) */
  type: string;
  /** event time in ms since the epoch (the log's own resolution) */
  timeMs: number;
  /** the kernel's serial: with the time it names the event */
  serial: number;
  /** `node=` when the log has one */
  node?: string;
  /** the raw fields as written (values unquoted, hex left as is) */
  fields: Record<string, string>;
  /** ENRICHED log format: the interpreted fields after the 0x1d separator (ARCH, SYSCALL, AUID…) */
  enriched?: Record<string, string>;
}

const GS = '\x1d';

/** Parses one line; null when it holds no audit record header. */
export function parseRecordLine(line: string): AuditRecord | null {
  const typeAt = line.indexOf('type=');
  if (typeAt < 0) return null;
  const typeEnd = line.indexOf(' ', typeAt);
  if (typeEnd < 0) return null;
  const known = recordType(line, typeAt + 5, typeEnd);
  const type = known.name;
  if (type === '') return null;
  // "msg=audit(" from auditd, " audit(" from the kernel's printk
  const open = line.indexOf('audit(', typeEnd);
  if (open < 0 || open > typeEnd + 6) return null;
  const close = line.indexOf(')', open);
  if (close < 0) return null;
  const colon = line.indexOf(':', open + 6);
  if (colon < 0 || colon > close) return null;
  const serial = Number(line.slice(colon + 1, close));
  if (!isSeconds(line, open + 6, colon) || !Number.isInteger(serial) || serial < 0) return null;
  const timeMs = Math.round(Number(line.slice(open + 6, colon)) * 1000);
  // the body is parsed in place in the line: a slice of it would be one more string to make and read through
  const bodyAt = line.charCodeAt(close + 1) === 58 ? close + 2 : close + 1;
  const gs = line.indexOf(GS, bodyAt);
  const enriched = gs >= 0 ? parsePairs(line, gs + 1, line.length, undefined, known.enrichedKeys) : undefined;
  const record: AuditRecord = { type, timeMs, serial, fields: parsePairs(line, bodyAt, gs >= 0 ? gs : line.length, undefined, known.keys) };
  const nodeAt = line.lastIndexOf('node=', typeAt);
  if (nodeAt >= 0) {
    const end = line.indexOf(' ', nodeAt);
    if (end > nodeAt && end < typeAt) record.node = line.slice(nodeAt + 5, end);
  }
  if (enriched) record.enriched = enriched;
  return record;
}

/** Whether line[from, to) is 1–12 digits, then optionally '.' and 1–9 digits: the seconds of audit(…). */
function isSeconds(line: string, from: number, to: number): boolean {
  let i = from;
  while (i < to && isDigit(line.charCodeAt(i))) i++;
  if (i === from || i - from > 12) return false;
  if (i === to) return true;
  if (line.charCodeAt(i) !== 46) return false;
  const fraction = ++i;
  while (i < to && isDigit(line.charCodeAt(i))) i++;
  return i === to && i > fraction && i - fraction <= 9;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The record types seen so far, each with its keys by their place in a line: a type writes the same keys in the same
 * order line after line, so a key is usually recognised in place and the string of the line before reused, instead
 * of a new string that the object must turn into a property name again (the parser's largest cost). A log has a
 * handful of types; the list is bounded (64 types of 128 places, keys of at most 64 characters, kept as copies).
 */
interface KnownType {
  /** the type as written (SYSCALL, 1300) */
  token: string;
  /** typeName(token) */
  name: string;
  keys: PlaceCache;
  enrichedKeys: PlaceCache;
}

/**
 * The keys of a record type by place, and whether each differs from every key before it (0 not known yet, 1 it
 * does, 2 it does not). A line whose keys so far were all in place holds exactly those keys, so a key that differs
 * from them cannot be set yet: the parser then skips the lookup that keeps a first value.
 */
export interface PlaceCache {
  keys: string[];
  distinct: Uint8Array;
}

export function placeCache(): PlaceCache {
  return { keys: [], distinct: new Uint8Array(MAX_PLACES) };
}

/** Whether the key at `place` differs from those before it (worked out once per key learnt). */
function distinctAt(cache: PlaceCache, place: number): boolean {
  let d = cache.distinct[place]!;
  if (d === 0) {
    const key = cache.keys[place]!;
    // '' is never set, and seresult may come from a bare word: neither is ever taken as new
    d = key === '' || key === 'seresult' || cache.keys.indexOf(key) < place ? 2 : 1;
    cache.distinct[place] = d;
  }
  return d === 1;
}

const knownTypes: KnownType[] = [];
let replaced = 0;
const MAX_TYPES = 64;
const MAX_PLACES = 128;

/** Keys longer than this are not kept (audit's are a few characters). */
const MAX_KEPT_KEY = 64;

/**
 * A copy of a short slice that holds no reference to the line it came from: a slice may share the line's memory,
 * and a cache kept for the process's life must not pin the (up to 1 MiB) lines its keys were found in.
 */
function detached(slice: string): string {
  let copy = '';
  for (let i = 0; i < slice.length; i++) copy += String.fromCharCode(slice.charCodeAt(i));
  return copy;
}

function recordType(line: string, from: number, to: number): KnownType {
  for (const known of knownTypes) if (sameKey(line, from, to, known.token)) return known;
  const token = line.slice(from, to);
  if (token.length > MAX_KEPT_KEY) return { token, name: typeName(token), keys: placeCache(), enrichedKeys: placeCache() };
  const kept = detached(token);
  const known: KnownType = { token: kept, name: typeName(kept), keys: placeCache(), enrichedKeys: placeCache() };
  // past the bound the oldest entry makes room: a damaged log's made-up types cannot keep the real ones out
  knownTypes[knownTypes.length < MAX_TYPES ? knownTypes.length : replaced++ % MAX_TYPES] = known;
  return known;
}

/**
 * key=value pairs separated by spaces. Values are bare, "double-quoted" (kept with their quotes) (audit quotes only strings free of spaces
 * and quotes; others it hex-encodes) or 'single-quoted' (user-space messages put their own fields in msg='...',
 * which are flattened into the same map; a key already set keeps its first value). `cache` is the record type's
 * placeCache() (it only saves work: the result is the same without it).
 */
export function parseFields(text: string, given?: Record<string, string>, cache?: PlaceCache): Record<string, string> {
  return parsePairs(text, 0, text.length, given, cache);
}

/** parseFields() of text[from, n). */
function parsePairs(text: string, from: number, n: number, given: Record<string, string> | undefined, cache: PlaceCache | undefined): Record<string, string> {
  const into = given ?? (Object.create(null) as Record<string, string>);
  const keys = cache?.keys;
  let i = from;
  let place = 0;
  // every key so far was the cached one in its place into an object of nothing else (only then is `distinct` true)
  let inPlace = cache !== undefined && given === undefined;
  while (i < n) {
    let c = text.charCodeAt(i);
    while (c === 32 || c === 9) c = ++i < n ? text.charCodeAt(i) : NaN;
    if (i >= n) break;
    // the first '=' or ' ': a '=' first makes a pair, a ' ' (or the end) first a bare word
    let eq = i;
    while (eq < n && c !== 61 && c !== 32) c = text.charCodeAt(++eq);
    if (c !== 61 || eq >= n) {
      // a bare word (e.g. a truncated tail): skipped, but for SELinux's verdict ("avc:  denied  { read } for …")
      if (into.seresult === undefined && (eq - i === 6 || eq - i === 7)) {
        const word = text.slice(i, eq);
        if (word === 'denied' || word === 'granted') {
          into.seresult = word;
          inPlace = false;
        }
      }
      i = eq + 1;
      continue;
    }
    let key: string | undefined = keys?.[place];
    let fresh = false;
    if (key !== undefined && sameKey(text, i, eq, key)) fresh = inPlace && distinctAt(cache!, place);
    else {
      key = text.slice(i, eq);
      inPlace = false;
      if (cache && place < MAX_PLACES && key.length <= MAX_KEPT_KEY) {
        cache.keys[place] = key = detached(key);
        // what was known of the places after this one compared them with the key it replaces
        cache.distinct.fill(0, place);
      }
    }
    place += 1;
    let j = eq + 1;
    let value: string;
    const q = j < n ? text.charCodeAt(j) : NaN;
    if (q === 34 || q === 39) {
      let end = text.indexOf(q === 34 ? '"' : "'", j + 1);
      if (end >= n) end = -1;
      // double quotes stay on the value: they tell a plain string from a hex-encoded one (fields.ts untrusted())
      if (q === 34) value = end < 0 ? `${text.slice(j, n)}"` : text.slice(j, end + 1);
      else value = text.slice(j + 1, end < 0 ? n : end);
      j = end < 0 ? n : end + 1;
      if (q === 39 && key === 'msg' && value.includes('=')) {
        parseFields(value, into);
        inPlace = false;
        i = j;
        continue;
      }
    } else {
      let stop = j;
      while (stop < n && text.charCodeAt(stop) !== 32) stop++;
      value = text.slice(j, stop);
      j = stop;
    }
    if (fresh || (key !== '' && into[key] === undefined)) into[key] = value;
    i = j;
  }
  return into;
}

function sameKey(text: string, from: number, to: number, key: string): boolean {
  if (key.length !== to - from) return false;
  for (let k = 0; k < key.length; k++) if (text.charCodeAt(from + k) !== key.charCodeAt(k)) return false;
  return true;
}
