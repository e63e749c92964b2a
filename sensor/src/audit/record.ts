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
  const type = typeName(line.slice(typeAt + 5, typeEnd));
  if (type === '') return null;
  // "msg=audit(" from auditd, " audit(" from the kernel's printk
  const open = line.indexOf('audit(', typeEnd);
  if (open < 0 || open > typeEnd + 6) return null;
  const close = line.indexOf(')', open);
  if (close < 0) return null;
  const stamp = line.slice(open + 6, close);
  const colon = stamp.indexOf(':');
  if (colon < 0) return null;
  const seconds = stamp.slice(0, colon);
  const serial = Number(stamp.slice(colon + 1));
  if (!/^\d{1,12}(\.\d{1,9})?$/.test(seconds) || !Number.isInteger(serial) || serial < 0) return null;
  const timeMs = Math.round(Number(seconds) * 1000);
  let body = line.slice(line[close + 1] === ':' ? close + 2 : close + 1);
  let enriched: Record<string, string> | undefined;
  const gs = body.indexOf(GS);
  if (gs >= 0) {
    enriched = parseFields(body.slice(gs + 1));
    body = body.slice(0, gs);
  }
  const record: AuditRecord = { type, timeMs, serial, fields: parseFields(body) };
  const nodeAt = line.lastIndexOf('node=', typeAt);
  if (nodeAt >= 0) {
    const end = line.indexOf(' ', nodeAt);
    if (end > nodeAt && end < typeAt) record.node = line.slice(nodeAt + 5, end);
  }
  if (enriched) record.enriched = enriched;
  return record;
}

/**
 * key=value pairs separated by spaces. Values are bare, "double-quoted" (kept with their quotes) (audit quotes only strings free of spaces
 * and quotes; others it hex-encodes) or 'single-quoted' (user-space messages put their own fields in msg='...',
 * which are flattened into the same map; a key already set keeps its first value).
 */
export function parseFields(text: string, into: Record<string, string> = Object.create(null) as Record<string, string>): Record<string, string> {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    const space = text.indexOf(' ', i);
    if (eq < 0 || (space >= 0 && space < eq)) {
      // a bare word (e.g. a truncated tail): skipped, but for SELinux's verdict ("avc:  denied  { read } for …")
      const end = space < 0 ? n : space;
      if (into.seresult === undefined && (end - i === 6 || end - i === 7)) {
        const word = text.slice(i, end);
        if (word === 'denied' || word === 'granted') into.seresult = word;
      }
      i = space < 0 ? n : space + 1;
      continue;
    }
    const key = text.slice(i, eq);
    let j = eq + 1;
    let value: string;
    const q = text[j];
    if (q === '"' || q === "'") {
      const end = text.indexOf(q, j + 1);
      const stop = end < 0 ? n : end;
      // double quotes stay on the value: they tell a plain string from a hex-encoded one (fields.ts untrusted())
      value = q === '"' ? `"${text.slice(j + 1, stop)}"` : text.slice(j + 1, stop);
      j = end < 0 ? n : end + 1;
      if (q === "'" && key === 'msg' && value.includes('=')) {
        parseFields(value, into);
        i = j;
        continue;
      }
    } else {
      const end = text.indexOf(' ', j);
      const stop = end < 0 ? n : end;
      value = text.slice(j, stop);
      j = stop;
    }
    if (key !== '' && into[key] === undefined) into[key] = value;
    i = j;
  }
  return into;
}
