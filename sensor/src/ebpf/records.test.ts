/**
 * Decoder and filter encoders on synthetic bytes (no kernel needed).
 */
import { describe, expect, test } from 'bun:test';
import { decodeRecord, errnoName, formatIPv6, Kind, Layout, Flag, type ExecRecord, type FileRecord, type NetRecord, type IoRecord, type ExitRecord, type ChannelRecord } from './records.ts';
import { netKey, noiseKey, parseIp, parsePrefix, pathFiltered, prefixEntry, DEFAULT_PATH_PREFIXES } from './filters.ts';
import { verifierFailure } from './loader.ts';
import { bytesOfName } from '../../../kibana-plugin/common/escaped-names.ts';

/** a record buffer with a filled header */
function record(kind: number, size: number, ret = 0): { buf: Buffer; dv: DataView } {
  const buf = Buffer.alloc(size + 16);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  dv.setUint16(0, kind, true);
  dv.setUint32(4, size, true);
  dv.setUint32(8, 0x5678, true);
  dv.setUint32(12, 0x1, true); // ts = 2^32 + 0x5678
  dv.setUint32(16, 101, true);
  dv.setUint32(20, 100, true);
  dv.setUint32(24, 1, true);
  dv.setUint32(28, 1000, true);
  dv.setUint32(32, 1001, true);
  dv.setUint32(36, 0, true);
  dv.setUint32(40, 0, true);
  dv.setUint32(48, 42, true);
  dv.setUint32(56, 7, true);
  dv.setInt32(64, ret, true);
  dv.setInt32(68, ret < 0 ? -1 : 0, true);
  buf.write('worker', 72);
  return { buf, dv };
}

describe('decodeRecord', () => {
  test('header', () => {
    const { buf, dv } = record(Kind.EXIT, Layout.exit.SIZE);
    dv.setInt32(Layout.exit.exit_code, 3 << 8, true);
    const r = decodeRecord(dv, buf, 0, Layout.exit.SIZE) as ExitRecord;
    expect(r).toMatchObject({ kind: 'exit', tsNs: 2 ** 32 + 0x5678, pid: 101, tgid: 100, ppid: 1, uid: 1000, gid: 1001, cgroupId: 42, startNs: 7, comm: 'worker', exitCode: 3, signal: 0 });
  });

  test('exit by signal with core dump', () => {
    const { buf, dv } = record(Kind.EXIT, Layout.exit.SIZE);
    dv.setInt32(Layout.exit.exit_code, 0x80 | 11, true);
    const r = decodeRecord(dv, buf, 0, Layout.exit.SIZE) as ExitRecord;
    expect(r).toMatchObject({ signal: 11, coreDumped: true, exitCode: 0 });
  });

  test('exec: filename, right-aligned exe, argv, truncation flag', () => {
    const args = Buffer.from('ls\0-la\0/tmp/dir with space\0');
    const size = Layout.exec.args + args.length;
    const { buf, dv } = record(Kind.EXECVE, size);
    dv.setUint16(2, Flag.TRUNC_ARGS, true);
    dv.setInt32(Layout.exec.dirfd, -100, true);
    dv.setUint16(Layout.exec.argc, 3, true);
    dv.setUint16(Layout.exec.args_len, args.length, true);
    dv.setUint16(Layout.exec.filename_len, 2, true);
    buf.write('ls', Layout.exec.filename);
    const exe = '/usr/bin/ls';
    dv.setUint16(Layout.exec.exe_off, 512 - exe.length, true);
    buf.write(exe, Layout.exec.exe + 512 - exe.length);
    args.copy(buf, Layout.exec.args);
    const r = decodeRecord(dv, buf, 0, size) as ExecRecord;
    expect(r).toMatchObject({ kind: 'execve', filename: 'ls', exe: '/usr/bin/ls', argv: ['ls', '-la', '/tmp/dir with space'], dirfd: -100 });
    expect(r.recordFlags & Flag.TRUNC_ARGS).toBeTruthy();
  });

  test('channel: via, both fds and both inodes; an unknown via is not a record', () => {
    const { buf, dv } = record(Kind.CHANNEL, Layout.chan.SIZE);
    dv.setUint32(Layout.chan.via, 4, true);
    dv.setInt32(Layout.chan.fd, 6, true);
    dv.setInt32(Layout.chan.fd + 4, -1, true);
    dv.setUint32(Layout.chan.ino, 9002, true);
    dv.setUint32(Layout.chan.ino + 8, 9001, true);
    dv.setUint32(Layout.chan.ino + 12, 1, true);
    dv.setUint32(Layout.chan.sk, 0x12345678, true);
    dv.setUint32(Layout.chan.sk + 4, 0xffff8880, true);
    const r = decodeRecord(dv, buf, 0, Layout.chan.SIZE) as ChannelRecord;
    expect(r).toMatchObject({ kind: 'channel', via: 'unix_accept', fds: [6, -1], inodes: [9002, 2 ** 32 + 9001], socks: ['ffff888012345678', ''], tgid: 100 });
    dv.setUint32(Layout.chan.via, 9, true);
    expect(decodeRecord(dv, buf, 0, Layout.chan.SIZE)).toBeUndefined();
  });

  test('failed exec has no exe', () => {
    const { buf, dv } = record(Kind.EXECVE, Layout.exec.args, -2);
    dv.setUint16(Layout.exec.exe_off, 512, true);
    const r = decodeRecord(dv, buf, 0, Layout.exec.args) as ExecRecord;
    expect(r.exe).toBeNull();
    expect(r.ret).toBe(-2);
    expect(errnoName(r.ret)).toBe('ENOENT');
  });

  test('file: UTF-8 path and rename target', () => {
    const size = Layout.file.path2 + 64;
    const { buf, dv } = record(Kind.RENAMEAT2, size);
    const from = Buffer.from('/tmp/données-été.txt');
    const to = Buffer.from('/tmp/a-much-longer-destination-name.txt');
    dv.setUint16(Layout.file.path_len, from.length, true);
    dv.setUint16(Layout.file.path2_len, to.length, true);
    from.copy(buf, Layout.file.path);
    to.copy(buf, Layout.file.path2);
    const r = decodeRecord(dv, buf, 0, size) as FileRecord;
    expect(r).toMatchObject({ kind: 'renameat2', path: '/tmp/données-été.txt', path2: '/tmp/a-much-longer-destination-name.txt' });
  });

  test('file: names that are not valid UTF-8 stay distinct and keep their bytes (issue 13 item 5)', () => {
    const decodePath = (bytes: Buffer, asBuffer = true): string => {
      const size = Layout.file.path2 + 64;
      const { buf, dv } = record(Kind.OPENAT, size);
      dv.setUint16(Layout.file.path_len, bytes.length, true);
      bytes.copy(buf, Layout.file.path);
      // Short and long paths take different decoding routes (JS loop vs Buffer#utf8Slice): both are checked.
      const view = asBuffer ? buf : new Uint8Array(buf);
      return (decodeRecord(dv, view, 0, size) as FileRecord).path;
    };
    for (const prefix of ['/t/', '/tmp/a-directory-long-enough-for-utf8Slice/']) {
      const ffFe = Buffer.concat([Buffer.from(`${prefix}bad`), Buffer.from([0xff, 0xfe])]);
      const feFf = Buffer.concat([Buffer.from(`${prefix}bad`), Buffer.from([0xfe, 0xff])]);
      const realReplacement = Buffer.from(`${prefix}bad\uFFFD\uFFFD`);
      const literalEscape = Buffer.from(`${prefix}bad\\xff\\xfe`); // valid UTF-8 that looks like an escape
      const names = [ffFe, feFf, realReplacement, literalEscape].map((b) => decodePath(b));
      expect(new Set(names).size).toBe(4);
      expect(names[0]).toBe(`${prefix}bad\\xff\\xfe`);
      expect(names[1]).toBe(`${prefix}bad\\xfe\\xff`);
      expect(names[2]).toBe(`${prefix}bad\uFFFD\uFFFD`);
      expect(names[3]).toBe(`${prefix}bad\\x5cxff\\x5cxfe`);
      expect(names.map((n) => Buffer.from(bytesOfName(n)))).toEqual([ffFe, feFf, realReplacement, literalEscape]);
      expect(decodePath(ffFe, false)).toBe(names[0]!);
    }
    // Valid UTF-8 without "\\x" is untouched, including a lone backslash.
    expect(decodePath(Buffer.from('/tmp/données\\été'))).toBe('/tmp/données\\été');
  });

  test('net: IPv6 endpoints and an abstract unix socket', () => {
    const { buf, dv } = record(Kind.CONNECT, Layout.net.SIZE);
    dv.setUint16(Layout.net.family, 10, true);
    dv.setUint16(Layout.net.rport, 443, true);
    dv.setUint16(Layout.net.lport, 50000, true);
    buf.set(parseIp('2001:db8::1').bytes, Layout.net.raddr);
    buf.set(parseIp('::1').bytes, Layout.net.laddr);
    const r = decodeRecord(dv, buf, 0, Layout.net.SIZE) as NetRecord;
    expect(r).toMatchObject({ remoteAddress: '2001:db8::1', remotePort: 443, localAddress: '::1', localPort: 50000 });

    const u = record(Kind.CONNECT, Layout.net.SIZE);
    u.dv.setUint16(Layout.net.family, 1, true);
    u.dv.setUint16(Layout.net.unix_len, 9, true);
    u.buf.write('\0dbus-abc', Layout.net.unix_path);
    expect((decodeRecord(u.dv, u.buf, 0, Layout.net.SIZE) as NetRecord).unixPath).toBe('@dbus-abc');
  });

  test('io aggregate', () => {
    const { buf, dv } = record(Kind.CLOSE, Layout.io.SIZE);
    dv.setInt32(Layout.io.fd, 5, true);
    dv.setUint32(Layout.io.reason, 1, true);
    dv.setUint32(Layout.io.io + Layout.io_counts.wr_calls, 1000, true);
    dv.setUint32(Layout.io.io + Layout.io_counts.wr_bytes, 0, true);
    dv.setUint32(Layout.io.io + Layout.io_counts.wr_bytes + 4, 1, true); // 4 GiB
    const r = decodeRecord(dv, buf, 0, Layout.io.SIZE) as IoRecord;
    expect(r).toMatchObject({ kind: 'close', fd: 5, reason: 'close', wrCalls: 1000, wrBytes: 2 ** 32 });
  });

  test('unknown kinds and short records are not decoded', () => {
    const { buf, dv } = record(999, 100);
    expect(decodeRecord(dv, buf, 0, 100)).toBeUndefined();
    expect(decodeRecord(dv, buf, 0, 40)).toBeUndefined();
  });
});

describe('addresses', () => {
  test('IPv6 text form (RFC 5952)', () => {
    const f = (ip: string) => formatIPv6(parseIp(ip).family === 10 ? parseIp(ip).bytes : new Uint8Array(16), 0);
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(f('fe80::')).toBe('fe80::');
    expect(f('::1')).toBe('::1');
    expect(f('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2:3:4:5:6');
    const mapped = new Uint8Array(16);
    mapped.set([0xff, 0xff, 127, 0, 0, 1], 10);
    expect(formatIPv6(mapped, 0)).toBe('::ffff:127.0.0.1');
  });

  test('v4-mapped IPv6 allowlist entries are the IPv4 rule', () => {
    expect(netKey('::ffff:10.1.2.3', 80)).toEqual(netKey('10.1.2.3', 80));
    expect(netKey('10.1.2.3', 80)).not.toEqual(netKey('10.1.2.3', 81));
    const k = netKey('::1', 8080);
    expect(new DataView(k.buffer).getUint16(0, true)).toBe(10);
    expect(new DataView(k.buffer).getUint16(2, true)).toBe(8080);
    expect(k[19]).toBe(1);
    expect(() => netKey('example.com', 1)).toThrow();
  });
});

describe('filters', () => {
  test('prefix rules: component boundary, raw prefix, fs magic, dot-dot', () => {
    expect(pathFiltered('/proc/1/status', DEFAULT_PATH_PREFIXES)).toBe(true);
    expect(pathFiltered('/proc', DEFAULT_PATH_PREFIXES)).toBe(true);
    expect(pathFiltered('/processes/x', DEFAULT_PATH_PREFIXES)).toBe(false);
    expect(pathFiltered('/usr/lib64/ld.so', DEFAULT_PATH_PREFIXES)).toBe(true);
    expect(pathFiltered('/usr/libexec/x', DEFAULT_PATH_PREFIXES)).toBe(true);
    expect(pathFiltered('/proc/../etc/shadow', DEFAULT_PATH_PREFIXES)).toBe(false);
    expect(pathFiltered('relative/proc', DEFAULT_PATH_PREFIXES)).toBe(false);
    const proc = prefixEntry(parsePrefix('/proc'));
    const v = new DataView(proc.value.buffer);
    expect(v.getUint32(0, true)).toBe(5);
    expect(v.getUint32(8, true)).toBe(0x9fa0);
    expect(new DataView(proc.key.buffer).getUint32(0, true)).toBe(40);
    expect(parsePrefix('/usr/lib*').raw).toBe(true);
    expect(parsePrefix('/data/').bytes.length).toBe(5);
    expect(() => parsePrefix('tmp')).toThrow();
  });

  test('noise key: comm padded, executable right-aligned', () => {
    const k = noiseKey('sshd', '/usr/sbin/sshd');
    expect(Buffer.from(k.subarray(0, 4)).toString()).toBe('sshd');
    expect(k[4]).toBe(0);
    expect(Buffer.from(k.subarray(272 - 14)).toString()).toBe('/usr/sbin/sshd');
    expect(k[272 - 15]).toBe(0);
    expect(noiseKey('a-very-long-process-name', '/x').subarray(0, 16).indexOf(0)).toBe(15);
  });
});

describe('verifier log parsing', () => {
  test('names the program and keeps the last lines of its log', () => {
    const lines = [
      "libbpf: prog 'tp_ok': relocated",
      "libbpf: prog 'tp_bad': BPF program load failed: Permission denied",
      "libbpf: prog 'tp_bad': -- BEGIN PROG LOAD LOG --",
      ...Array.from({ length: 30 }, (_, i) => `${i}: (85) call bpf_probe_read_kernel#113`),
      'R1 invalid mem access \'scalar\'',
      'processed 31 insns (limit 1000000)',
      '-- END PROG LOAD LOG --',
      "libbpf: prog 'tp_bad': failed to load: -13",
    ];
    const v = verifierFailure(lines)!;
    expect(v.program).toBe('tp_bad');
    expect(v.tail).toHaveLength(20);
    expect(v.tail.at(-1)).toBe('processed 31 insns (limit 1000000)');
    expect(v.tail.at(-2)).toBe("R1 invalid mem access 'scalar'");
  });
});
