/**
 * In-kernel filters: the configuration type and the byte encodings of the BPF map keys
 * (bpf/provmon.h: pm_noise_key, pm_prefix_key/val, pm_net_key). Writing them into the
 * maps is BpfSensor.setFilters (loader.ts).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { realpathSync } from 'node:fs';
import { ProvmonError } from '../errors.ts';

export interface NoiseRule {
  /** process name (comm) right after exec: the executable's basename, first 15 bytes */
  comm: string;
  /** executable path; resolved with realpath (symlinks) before it goes into the kernel */
  exe: string;
}

export interface NetAllowRule {
  /** IPv4 or IPv6 literal; v4-mapped IPv6 (::ffff:a.b.c.d) is the same rule as a.b.c.d */
  ip: string;
  port: number;
}

export interface FilterConfig {
  /** the sensor's own process(es): hidden with every process they fork afterwards */
  ownTgids?: number[];
  /** processes hidden when their exec matches comm AND executable */
  noise?: NoiseRule[];
  /**
   * Path prefixes hidden from file events (never from exec). "/proc" hides "/proc" and
   * "/proc/…" (component boundary); a trailing '*' ("/usr/lib*") is a plain byte prefix.
   */
  pathPrefixes?: string[];
  /** exact (ip, port) pairs whose connect/accept/sendto/recvfrom are not reported */
  netAllow?: NetAllowRule[];
}

export const DEFAULT_PATH_PREFIXES: readonly string[] = ['/proc', '/sys', '/usr/lib*', '/lib*', '/dev/null'];

/** filesystem magic an open under these prefixes must be on to be hidden (statfs(2) f_type) */
const PREFIX_FS_MAGIC: Record<string, number> = {
  '/proc': 0x9fa0, // PROC_SUPER_MAGIC
  '/sys': 0x62656572, // SYSFS_MAGIC
};

export const PREFIX_MAX = 256;
export const NOISE_EXE = 256;
const PREFIX_RAW = 1;

export interface PrefixRule {
  bytes: Uint8Array;
  raw: boolean;
  fsMagic: number;
}

export function parsePrefix(prefix: string): PrefixRule {
  let p = prefix;
  const raw = p.endsWith('*');
  if (raw) p = p.slice(0, -1);
  if (!raw && p.length > 1 && p.endsWith('/')) p = p.replace(/\/+$/, '');
  if (!p.startsWith('/')) throw new ProvmonError(`path prefix filter "${prefix}" is not absolute`, { hint: 'prefixes start with /' });
  const bytes = Buffer.from(p, 'utf8');
  if (bytes.length === 0 || bytes.length > PREFIX_MAX) {
    throw new ProvmonError(`path prefix filter "${prefix}" is empty or longer than ${PREFIX_MAX} bytes`);
  }
  return { bytes, raw, fsMagic: raw ? 0 : (PREFIX_FS_MAGIC[p] ?? 0) };
}

/** pm_prefix_key (260 bytes) and pm_prefix_val (16 bytes) */
export function prefixEntry(rule: PrefixRule): { key: Uint8Array; value: Uint8Array } {
  const key = new Uint8Array(4 + PREFIX_MAX);
  const kv = new DataView(key.buffer);
  kv.setUint32(0, rule.bytes.length * 8, true);
  key.set(rule.bytes, 4);
  const value = new Uint8Array(16);
  const vv = new DataView(value.buffer);
  vv.setUint32(0, rule.bytes.length, true);
  vv.setUint32(4, rule.raw ? PREFIX_RAW : 0, true);
  vv.setUint32(8, rule.fsMagic, true);
  return { key, value };
}

/**
 * User-space mirror of the kernel's prefix decision for a path given to a syscall
 * (ignores the fs-magic check, which needs the opened file). Tests use it to predict
 * what the kernel hides.
 */
export function pathFiltered(path: string, prefixes: readonly string[]): boolean {
  if (!path.startsWith('/')) return false;
  if (/(^|\/)\.\.(\/|$)/.test(path)) return false;
  for (const p of prefixes) {
    const r = parsePrefix(p);
    const s = Buffer.from(r.bytes).toString('utf8');
    if (!path.startsWith(s)) continue;
    if (r.raw || path.length === s.length || path[s.length] === '/' || s.endsWith('/')) return true;
  }
  return false;
}

/** pm_noise_key: comm NUL-padded to 16, executable right-aligned in 256 bytes */
export function noiseKey(comm: string, exe: string): Uint8Array {
  const key = new Uint8Array(16 + NOISE_EXE);
  const c = Buffer.from(comm, 'utf8').subarray(0, 15);
  key.set(c, 0);
  const e = Buffer.from(exe, 'utf8');
  if (e.length > NOISE_EXE) throw new ProvmonError(`noise rule executable "${exe}" is longer than ${NOISE_EXE} bytes`);
  key.set(e, 16 + NOISE_EXE - e.length);
  return key;
}

export function resolveExe(exe: string): string {
  try {
    return realpathSync(exe);
  } catch {
    return exe;
  }
}

export interface ParsedIp {
  family: 2 | 10;
  bytes: Uint8Array;
}

/** IPv4/IPv6 literal to bytes; v4-mapped IPv6 becomes IPv4 (the kernel normalises the same way) */
export function parseIp(ip: string): ParsedIp {
  if (isIPv4(ip)) return { family: 2, bytes: Uint8Array.from(ip.split('.').map(Number)) };
  if (!isIPv6(ip)) throw new ProvmonError(`"${ip}" is not an IP address`, { hint: 'network allowlist entries are exact IPv4/IPv6 addresses' });
  let text = ip.replace(/%.*$/, '');
  let tail: number[] = [];
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const words = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    const n = parseInt(w, 16);
    bytes[2 * i] = n >> 8;
    bytes[2 * i + 1] = n & 0xff;
  });
  if (tail.length) bytes.set(tail, 12);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { family: 2, bytes: bytes.slice(12) };
  return { family: 10, bytes };
}

/** pm_net_key (20 bytes) */
export function netKey(ip: string, port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProvmonError(`port ${port} is out of range`);
  const { family, bytes } = parseIp(ip);
  const key = new Uint8Array(20);
  const dv = new DataView(key.buffer);
  dv.setUint16(0, family, true);
  dv.setUint16(2, port, true);
  key.set(bytes, 4);
  return key;
}
