/**
 * tshark as the ground truth: helpers that run it on a capture and return what it decoded.
 * Only test code imports this.
 */

function tshark(args: string[]): string {
  const proc = Bun.spawnSync(['tshark', ...args], { stdout: 'pipe', stderr: 'pipe' });
  const out = proc.stdout.toString();
  const err = proc.stderr.toString().replace(/Running as user "root".*\n?/g, '');
  // tshark exits non-zero on a truncated file but still prints every frame before the damage
  if (proc.exitCode !== 0 && out === '' && !/cut short|damaged or corrupt/.test(err)) throw new Error(`tshark ${args.join(' ')} failed: ${err}`);
  return out;
}

/** One row per frame (after the optional display filter), one column per field. */
export function tsharkFields(file: string, fields: string[], filter?: string, extra: string[] = []): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...extra];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  return tshark(args)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

export interface TsharkConversation {
  /** as tshark prints them: "addr:port" */
  a: string;
  b: string;
  /** frames and bytes B -> A */
  framesBA: number;
  bytesBA: number;
  framesAB: number;
  bytesAB: number;
  /** the unit tshark printed bytes in (1 for "bytes", 1000 for kB…): figures are exact only in bytes */
  bytesUnit: number;
}

function parseBytes(n: string, unit: string): [number, number] {
  const v = Number(n);
  switch (unit) {
    case 'bytes':
      return [v, 1];
    case 'kB':
      return [v * 1e3, 1e3];
    case 'MB':
      return [v * 1e6, 1e6];
    case 'GB':
      return [v * 1e9, 1e9];
    default:
      throw new Error(`unknown unit ${unit}`);
  }
}

/** `tshark -q -z conv,tcp|udp` parsed. */
export function tsharkConversations(file: string, proto: 'tcp' | 'udp'): TsharkConversation[] {
  const text = tshark(['-r', file, '-q', '-z', `conv,${proto}`]);
  const out: TsharkConversation[] = [];
  const row = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+([\d.]+)\s+(bytes|kB|MB|GB)\s+(\d+)\s+([\d.]+)\s+(bytes|kB|MB|GB)\s+/;
  for (const line of text.split('\n')) {
    const m = row.exec(line);
    if (!m) continue;
    const [ba, r1] = parseBytes(m[4]!, m[5]!);
    const [ab, r2] = parseBytes(m[7]!, m[8]!);
    out.push({ a: m[1]!, b: m[2]!, framesBA: Number(m[3]), bytesBA: ba, framesAB: Number(m[6]), bytesAB: ab, bytesUnit: Math.max(r1, r2) });
  }
  return out;
}

/** "addr:port" as tshark prints it, split at the last colon (IPv6 addresses are not bracketed). */
export function splitEndpoint(endpoint: string): { ip: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { ip: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

export interface StreamTotals {
  /** tshark's tcp.stream / udp.stream index */
  stream: string;
  /** first frame's source is A */
  a: string;
  b: string;
  framesAB: number;
  bytesAB: number;
  framesBA: number;
  bytesBA: number;
}

/**
 * Exact per-conversation byte totals from tshark's own stream index (tcp.stream / udp.stream) and
 * frame.len: the conv table rounds anything above 10 kB. ICMP errors quote a transport header but
 * are not part of the conversation (the conv table leaves them out too).
 */
export function tsharkStreamTotals(file: string, proto: 'tcp' | 'udp'): StreamTotals[] {
  const rows = tsharkFields(file, [`${proto}.stream`, 'ip.src', 'ipv6.src', `${proto}.srcport`, 'ip.dst', 'ipv6.dst', `${proto}.dstport`, 'frame.len'], `${proto} && !icmp && !icmpv6`);
  const streams = new Map<string, StreamTotals>();
  for (const [stream, ip4s, ip6s, sport, ip4d, ip6d, dport, len] of rows) {
    const src = `${ip4s || ip6s}:${sport}`;
    const dst = `${ip4d || ip6d}:${dport}`;
    let s = streams.get(stream!);
    if (!s) {
      s = { stream: stream!, a: src, b: dst, framesAB: 0, bytesAB: 0, framesBA: 0, bytesBA: 0 };
      streams.set(stream!, s);
    }
    if (src === s.a && dst === s.b) {
      s.framesAB++;
      s.bytesAB += Number(len);
    } else {
      s.framesBA++;
      s.bytesBA += Number(len);
    }
  }
  return [...streams.values()];
}
