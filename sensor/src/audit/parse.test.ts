import { describe, expect, test } from 'bun:test';
import type { EcsEvent } from '../../../kibana-plugin/common/ecs.ts';
import { processEntityId } from '../model/entity-id.ts';
import { parseRecordLine } from './record.ts';
import { AuditLogReader, type AuditReadStats } from './reader.ts';
import { debianCurl, hex, rhel7Files, rhelEnriched, splitExecve, syslogKernel } from './testdata/samples.ts';

const host = { id: 'a'.repeat(32), name: 'case-host', bootTimeMs: 0 };
const enc = new TextEncoder();

async function parse(inputs: string[][], chunk = 4096): Promise<{ docs: EcsEvent[]; stats: AuditReadStats }> {
  const docs: EcsEvent[] = [];
  const reader = new AuditLogReader({ host, namespace: 'case1', onDocument: (d) => docs.push(d) });
  for (const [i, lines] of inputs.entries()) {
    const bytes = enc.encode(lines.join('\n') + '\n');
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += chunk) chunks.push(bytes.subarray(o, o + chunk));
    await reader.read({ name: `log${i}`, chunks });
  }
  return { docs, stats: reader.finish() };
}

describe('audit record lines', () => {
  test('reads the header, quoted, bare and hex values, node= and the ENRICHED tail', () => {
    const r = parseRecordLine(rhelEnriched()[0]!)!;
    expect(r.type).toBe('SYSCALL');
    expect(r.timeMs).toBe(1764900000200);
    expect(r.serial).toBe(9001);
    expect(r.node).toBe('web1');
    expect(r.fields.comm).toBe('"python3"');
    expect(r.fields.syscall).toBe('43');
    expect(r.enriched?.SYSCALL).toBe('accept');
    expect(r.enriched?.AUID).toBe('"alice"');
  });

  test('names numeric types from the kernel log and flattens user-space msg=\'...\'', () => {
    expect(parseRecordLine(syslogKernel()[0]!)!.type).toBe('SYSCALL');
    expect(parseRecordLine(syslogKernel()[1]!)!.type).toBe('PATH');
    const login = parseRecordLine(rhelEnriched()[4]!)!;
    expect(login.type).toBe('USER_LOGIN');
    expect(login.fields.addr).toBe('10.0.0.5');
    expect(login.fields.res).toBe('success');
  });

  test('is null for lines that are not audit records', () => {
    for (const line of ['', 'hello', 'type=', 'type=SYSCALL msg=audit(abc:1): x=1', 'Dec 5 sshd[1]: Accepted publickey', 'type=SYSCALL msg=audit(1.2:3']) {
      expect(parseRecordLine(line)).toBeNull();
    }
  });
});

describe('audit events become the sensor documents', () => {
  test('an exec with hex and quoted arguments: process dataset, executable, args, entity id from pid and first sight', async () => {
    const { docs } = await parse([debianCurl()]);
    const exec = docs.find((d) => d.event.action === 'exec')!;
    expect(exec.event.dataset).toBe('provmon.process');
    expect(exec.data_stream).toEqual({ type: 'logs', dataset: 'provmon.process', namespace: 'case1' });
    expect(exec.process!.executable).toBe('/usr/bin/curl');
    expect(exec.process!.args).toEqual(['curl', '-s', 'http://127.0.0.1:8080/a file']);
    expect(exec.process!.pid).toBe(701);
    expect(exec.process!.entity_id).toBe(processEntityId(host.id, 701, Math.floor(1764900000100 / 10)));
    expect(exec.process!.start).toBe('2025-12-05T02:00:00.100Z');
    expect(exec.process!.parent!.pid).toBe(700);
    expect(exec.process!.parent!.entity_id).toBeTruthy();
    expect(exec['@timestamp']).toBe('2025-12-05T02:00:00.100Z');
    expect(exec.provmon!.audit).toEqual({ serial: 501, syscall: 'execve', key: 'pm_exec' });
  });

  test('a connect in progress: network dataset, destination from SOCKADDR, EINPROGRESS as the sensor reports it', async () => {
    const { docs } = await parse([debianCurl()]);
    const connect = docs.find((d) => d.event.action === 'connection_attempted')!;
    expect(connect.event.dataset).toBe('provmon.network');
    expect(connect.destination).toEqual({ ip: '127.0.0.1', port: 8080 });
    expect(connect.event.outcome).toBe('unknown');
    expect(connect.error).toEqual({ code: 'EINPROGRESS' });
    const exec = docs.find((d) => d.event.action === 'exec')!;
    expect(connect.process!.entity_id).toBe(exec.process!.entity_id);
    expect(connect.process!.executable).toBe('/usr/bin/curl');
  });

  test('ENRICHED RHEL lines: the syscall name from the tail, an IPv6 peer on accept, auid kept, USER_LOGIN a login', async () => {
    const { docs, stats } = await parse([rhelEnriched()]);
    expect(docs.map((d) => d.event.dataset)).toEqual(['provmon.network', 'provmon.audit']);
    const accept = docs[0]!;
    expect(accept.event.action).toBe('connection_accepted');
    expect(accept.source).toEqual({ ip: '::1', port: 40000 });
    expect(accept.process!.name).toBe('python3');
    expect(accept.provmon!.audit).toEqual({ serial: 9001, syscall: 'accept', key: 'pm_net', auid: '1000', session: '3' });
    expect(stats.conversion.audit_records).toEqual({ USER_LOGIN: 1 });
    expect(stats.conversion.not_syscall).toEqual({});
    expect(docs[1]!.event.action).toBe('logged-in');
    expect(stats.nodes).toEqual(['web1']);
  });

  test('files: a relative create resolved with CWD (old objtype=), a rename from DELETE to CREATE', async () => {
    const { docs } = await parse([rhel7Files()]);
    const open = docs.find((d) => d.event.dataset === 'provmon.file' && d.event.action !== 'rename')!;
    expect(open.file!.path).toBe('/home/alice/notes.txt');
    expect(open.provmon!.open).toEqual({ flags: ['O_WRONLY', 'O_CREAT', 'O_TRUNC'] });
    const rename = docs.find((d) => d.event.action === 'rename')!;
    expect(rename.file!.path).toBe('/tmp/b.sh');
    expect(rename.provmon!.file).toEqual({ source_path: '/tmp/a.sh' });
  });

  test('kernel syslog lines with numeric types: an unlink becomes a deletion', async () => {
    const { docs } = await parse([syslogKernel()]);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.event.action).toBe('deletion');
    expect(docs[0]!.file!.path).toBe('/var/tmp/x.sh');
    expect(docs[0]!.provmon!.audit).toEqual({ serial: 123, syscall: 'unlink', key: 'pm_file' });
  });

  test('an argument split over EXECVE records is joined', async () => {
    const { docs } = await parse([splitExecve()]);
    expect(docs[0]!.process!.args).toEqual(['sh', '-c', 'x'.repeat(60)]);
    expect(docs[0]!.process!.executable).toBe('/usr/bin/dash');
    expect(docs[0]!.provmon!.exec).toEqual({ filename: '/bin/sh' });
  });

  test('interleaved records of two events, in chunks of 7 bytes, give the same documents as in order', async () => {
    const a = debianCurl();
    const b = rhel7Files();
    const mixed: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]) mixed.push(a[i]!);
      if (b[i]) mixed.push(b[i]!);
    }
    const ordered = await parse([[...a, ...b]]);
    const interleaved = await parse([mixed], 7);
    const ids = (docs: EcsEvent[]) => docs.map((d) => d.event.id).sort();
    expect(ids(interleaved.docs)).toEqual(ids(ordered.docs));
    expect(interleaved.docs.length).toBe(4);
  });

  test('an event cut by log rotation is joined across the two files', async () => {
    const lines = debianCurl();
    const { docs } = await parse([lines.slice(0, 3), lines.slice(3)]);
    const exec = docs.find((d) => d.event.action === 'exec')!;
    expect(exec.process!.args).toEqual(['curl', '-s', 'http://127.0.0.1:8080/a file']);
  });

  test('truncated input: a lone PATH is counted as partial, a last line without newline still counts, junk is named', async () => {
    const lines = [...rhel7Files().slice(3, 4), 'garbage line', ...debianCurl().slice(0, 2)];
    const reader = new AuditLogReader({ host, namespace: 'x', onDocument: () => {} });
    await reader.read({ name: 'cut', chunks: [enc.encode(lines.join('\n'))] });
    const stats = reader.finish();
    expect(stats.conversion.partial_events).toBe(1);
    expect(stats.not_audit_lines).toBe(1);
    expect(stats.examples).toEqual(['garbage line']);
    expect(stats.conversion.syscall_events).toBe(1);
    expect(stats.group.without_eoe).toBe(2);
  });

  test('a line over the bound is counted and skipped, the next line is read', async () => {
    const docs: EcsEvent[] = [];
    const reader = new AuditLogReader({ host, namespace: 'x', maxLineBytes: 2048, onDocument: (d) => docs.push(d) });
    const huge = `type=EXECVE msg=audit(1764900000.100:1): argc=1 a0=${hex('y'.repeat(5000))}`;
    const bytes = enc.encode([huge, ...syslogKernel()].join('\n') + '\n');
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += 1000) chunks.push(bytes.subarray(o, o + 1000));
    await reader.read({ name: 'big', chunks });
    const stats = reader.finish();
    expect(stats.oversized_lines).toBe(1);
    expect(docs.map((d) => d.event.action)).toEqual(['deletion']);
  });

  test('event ids are unique when one process makes several syscalls in one millisecond', async () => {
    const base = rhel7Files().slice(0, 4);
    const again = base.map((l) => l.replace(':77)', ':79)'));
    const { docs } = await parse([[...base, ...again]]);
    expect(docs).toHaveLength(2);
    expect(new Set(docs.map((d) => d.event.id)).size).toBe(2);
  });
});

describe('process identity across the order audit writes events in', () => {
  test("a child's exec logged before its parent's clone keeps the child's image and entity id", async () => {
    const T = '1764900100';
    const lines = [
      `type=SYSCALL msg=audit(${T}.010:20): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=500 pid=501 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="python3" exe="/usr/bin/python3.11" key="pm_exec"`,
      `type=EXECVE msg=audit(${T}.010:20): argc=2 a0="python3" a1="c.py"`,
      `type=SYSCALL msg=audit(${T}.011:21): arch=c000003e syscall=56 success=yes exit=501 a0=1200011 a1=0 a2=0 a3=0 items=0 ppid=400 pid=500 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="sh" exe="/usr/bin/dash" key="pm_proc"`,
      `type=SYSCALL msg=audit(${T}.050:22): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=2 a2=10 a3=0 items=0 ppid=500 pid=501 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="python3" exe="/usr/bin/python3.11" key="pm_net"`,
      `type=SOCKADDR msg=audit(${T}.050:22): saddr=020000357F0000010000000000000000`,
    ];
    const { docs } = await parse([lines]);
    expect(docs.map((d) => d.event.action)).toEqual(['exec', 'fork', 'connection_attempted']);
    const [exec, fork, connect] = docs;
    expect(fork!.process!.entity_id).toBe(exec!.process!.entity_id);
    expect(connect!.process!.entity_id).toBe(exec!.process!.entity_id);
    expect(connect!.process!.executable).toBe('/usr/bin/python3.11');
    expect(connect!.process!.args).toEqual(['python3', 'c.py']);
    expect(connect!.process!.parent!.pid).toBe(500);
  });

  test('a clone with CLONE_THREAD is a thread, not a process', async () => {
    const line = `type=SYSCALL msg=audit(1764900100.011:21): arch=c000003e syscall=56 success=yes exit=777 a0=3d0f00 a1=0 a2=0 a3=0 items=0 ppid=400 pid=500 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="java" exe="/usr/bin/java" key="pm_proc"`;
    const { docs, stats } = await parse([[line]]);
    expect(docs).toHaveLength(0);
    expect(stats.conversion.threads).toBe(1);
  });
});
