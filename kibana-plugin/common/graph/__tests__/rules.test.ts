/**
 * The security rules: each fires on the behaviour it names, with the ATT&CK id README.md documents, and stays
 * quiet (or low) on the look-alike benign case.
 */
import { describe, expect, test } from 'bun:test';
import { buildStore } from '../build.ts';
import { evaluateRules, persistenceClass } from '../rules.ts';
import { EventFactory, type ProcRef } from '../synthetic.ts';

function findings(f: EventFactory): string[] {
  return evaluateRules(buildStore(f.events)).map((x) => `${x.rule} ${x.technique ?? x.tactic} ${x.severity}`);
}

function setup(): { f: EventFactory; shell: ProcRef } {
  const f = new EventFactory();
  const shell = f.running(100, '/usr/bin/bash', { args: ['bash'] });
  return { f, shell };
}

describe('execution from writable locations', () => {
  test('a native binary from /tmp: high, tactic only (no technique is honest)', () => {
    const { f, shell } = setup();
    f.spawn(shell, 101, '/tmp/payload');
    expect(findings(f)).toEqual(['exec-from-writable-location TA0002 high']);
  });

  test('a shell script from /dev/shm: T1059.004', () => {
    const { f, shell } = setup();
    f.spawn(shell, 101, '/usr/bin/bash', ['/bin/bash', '/dev/shm/x.sh'], 'x.sh');
    expect(findings(f)).toEqual(['exec-from-writable-location T1059.004 high']);
  });

  test('a python script from a home directory: T1059.006, medium', () => {
    const { f, shell } = setup();
    f.spawn(shell, 101, '/usr/bin/python3.12', ['python3', '/home/u/tool.py'], 'python3');
    expect(findings(f)).toEqual(['exec-from-writable-location T1059.006 medium']);
  });

  test('system binaries are not flagged', () => {
    const { f, shell } = setup();
    f.spawn(shell, 101, '/usr/bin/ls');
    expect(findings(f)).toEqual([]);
  });
});

describe('network-facing services', () => {
  test('a shell spawned by a process that accepted a connection: T1059.004 high', () => {
    const { f } = setup();
    const web = f.running(200, '/usr/sbin/nginx');
    f.accept(web, '203.0.113.9', 40000, { ip: '10.0.0.2', port: 80 });
    f.spawn(web, 201, '/bin/sh', ['sh', '-c', 'id']);
    expect(findings(f)).toEqual(['shell-from-network-service T1059.004 high']);
  });

  test('a pre-forked worker of the same program inherits the exposure; python counts as T1059.006', () => {
    const { f } = setup();
    const master = f.running(200, '/usr/bin/gunicorn');
    f.listen(master, '0.0.0.0', 8000);
    const worker = f.fork(master, 201);
    f.spawn(worker, 202, '/usr/bin/python3', ['python3', '-c', 'import pty']);
    expect(findings(f)).toEqual(['shell-from-network-service T1059.006 high']);
  });

  test('sshd giving a login shell is expected: low', () => {
    const { f } = setup();
    const sshd = f.running(200, '/usr/sbin/sshd', { args: ['/usr/sbin/sshd', '-D'] });
    f.accept(sshd, '203.0.113.9', 40000, { ip: '10.0.0.2', port: 22 });
    f.spawn(sshd, 201, '/usr/bin/bash', ['-bash']);
    expect(findings(f)).toEqual(['shell-from-network-service T1059.004 low']);
  });

  test('a shell spawned before any connection was accepted is not flagged', () => {
    const { f } = setup();
    const web = f.running(200, '/usr/sbin/nginx');
    f.spawn(web, 201, '/bin/sh', ['sh', '-c', 'logrotate']);
    f.accept(web, '203.0.113.9', 40000, { ip: '10.0.0.2', port: 80 });
    expect(findings(f)).toEqual([]);
  });
});

describe('persistence', () => {
  test.each([
    ['/etc/cron.d/backdoor', 'T1053.003'],
    ['/var/spool/cron/crontabs/root', 'T1053.003'],
    ['/etc/systemd/system/evil.service', 'T1543.002'],
    ['/home/u/.config/systemd/user/evil.timer', 'T1053.006'],
    ['/home/u/.bashrc', 'T1546.004'],
    ['/etc/profile.d/evil.sh', 'T1546.004'],
    ['/root/.ssh/authorized_keys', 'T1098.004'],
    ['/etc/sudoers.d/evil', 'T1548.003'],
    ['/etc/ld.so.preload', 'T1574.006'],
    ['/etc/rc.local', 'T1037.004'],
  ])('writing %s is %s', (path, technique) => {
    expect(persistenceClass(path)?.technique).toBe(technique);
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/usr/bin/tee');
    f.writeFile(p, path, 100);
    expect(findings(f)).toEqual([`persistence-write ${technique} high`]);
  });

  test('renaming a file into a persistence location counts; reading one does not', () => {
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/usr/bin/mv');
    f.renameFile(p, '/var/tmp/unit', '/etc/systemd/system/evil.service');
    f.readFile(p, '/home/u/.bashrc');
    expect(findings(f)).toEqual(['persistence-write T1543.002 high']);
  });
});

describe('credentials and exfiltration', () => {
  test('reading /etc/shadow then connecting out: T1003.008 then T1041', () => {
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/usr/bin/python3', ['python3', '-c', '...']);
    f.connect(p, '198.51.100.1', 53); // before the read: not exfiltration
    f.readFile(p, '/etc/shadow', 1200);
    f.connect(p, '198.51.100.7', 443);
    f.send(p, '198.51.100.7', 443, 1200);
    const list = evaluateRules(buildStore(f.events));
    expect(list.map((x) => `${x.rule} ${x.technique}`)).toEqual(['credential-read T1003.008', 'exfiltration-after-credential-read T1041']);
    const exfil = list.find((x) => x.rule === 'exfiltration-after-credential-read')!;
    expect(exfil.nodes.some((n) => n.endsWith('198.51.100.7:443'))).toBe(true);
    expect(exfil.nodes.some((n) => n.endsWith('198.51.100.1:53'))).toBe(false);
  });

  test('a child started after the read that sends counts as exfiltration too', () => {
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/usr/bin/bash', ['bash', '-c', 'x']);
    f.readFile(p, '/home/u/.ssh/id_ed25519');
    const nc = f.spawn(p, 102, '/usr/bin/nc', ['nc', '198.51.100.7', '9']);
    f.connect(nc, '198.51.100.7', 9);
    expect(findings(f)).toEqual(['credential-read T1552.004 high', 'exfiltration-after-credential-read T1041 high']);
  });

  test('expected readers are low and do not make exfiltration', () => {
    const { f, shell } = setup();
    const chk = f.spawn(shell, 101, '/usr/sbin/unix_chkpwd');
    f.readFile(chk, '/etc/shadow');
    f.connect(chk, '198.51.100.7', 443);
    const ssh = f.spawn(shell, 102, '/usr/bin/ssh');
    f.readFile(ssh, '/home/u/.ssh/id_rsa');
    f.readFile(ssh, '/home/u/.ssh/id_rsa.pub');
    f.connect(ssh, '198.51.100.8', 22);
    expect(findings(f)).toEqual(['credential-read T1003.008 low', 'credential-read T1552.004 low']);
  });
});

describe('defence evasion', () => {
  test('a process deleting its own executable: T1070.004', () => {
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/var/tmp/dropper');
    f.unlink(p, '/var/tmp/dropper');
    expect(findings(f)).toContain('self-deletion T1070.004 high');
  });

  test('a script removing itself through rm is self-deletion too; rm of another file is not', () => {
    const { f, shell } = setup();
    const s = f.spawn(shell, 101, '/usr/bin/bash', ['/bin/bash', '/opt/job.sh'], 'job.sh');
    const rm = f.spawn(s, 102, '/usr/bin/rm', ['rm', '-f', '/opt/job.sh']);
    f.unlink(rm, '/opt/job.sh');
    const rm2 = f.spawn(shell, 103, '/usr/bin/rm', ['rm', '/opt/other.sh']);
    f.unlink(rm2, '/opt/other.sh');
    const list = evaluateRules(buildStore(f.events)).filter((x) => x.rule === 'self-deletion');
    expect(list.length).toBe(1);
    expect(list[0]!.reason).toContain('job.sh');
  });

  test('a process renaming itself at run time: T1036.011', () => {
    const { f, shell } = setup();
    const p = f.spawn(shell, 101, '/var/tmp/miner');
    f.rename(p, 'kworker/0:1');
    f.readFile(p, '/proc/cpuinfo');
    expect(findings(f)).toContain('renamed-process T1036.011 medium');
    const list = evaluateRules(buildStore(f.events)).find((x) => x.rule === 'renamed-process')!;
    expect(list.reason).toContain('kworker/0:1');
  });

  test('argv[0] spoofing (exec -a) is a renamed process', () => {
    const { f, shell } = setup();
    const child = f.fork(shell, 101);
    f.exec(child, '/opt/agent/agent', ['[kthreadd]'], 'agent');
    expect(findings(f)).toEqual(['renamed-process T1036.011 medium']);
  });

  test('programs that retitle themselves by design are low', () => {
    const { f, shell } = setup();
    const node = f.spawn(shell, 101, '/usr/bin/node', ['node', '/usr/bin/npm', 'ci']);
    f.rename(node, 'npm ci');
    f.readFile(node, '/home/u/package.json');
    expect(findings(f)).toEqual(['renamed-process T1036.011 low']);
  });

  test('symlinked interpreters and multi-call binaries are not renamed processes', () => {
    const { f, shell } = setup();
    f.spawn(shell, 101, '/usr/bin/python3.12', ['python3', '-V'], 'python3');
    f.spawn(shell, 102, '/usr/bin/dash', ['sh', '-c', 'true'], 'sh');
    f.spawn(shell, 103, '/usr/bin/busybox', ['ls', '/'], 'ls');
    f.spawn(shell, 104, '/usr/bin/bash', ['-bash'], 'bash');
    // a shebang exec as the sensor reports it: argv[0] is the script, comm its name
    f.spawn(shell, 105, '/usr/bin/bash', ['/opt/tools/backup.sh', '--full'], 'backup.sh');
    expect(findings(f)).toEqual([]);
  });
});

describe('ingress and permissions', () => {
  test('a downloaded file made executable: T1105 and T1222.002; setuid: T1548.001', () => {
    const { f, shell } = setup();
    const curl = f.spawn(shell, 101, '/usr/bin/curl');
    f.connect(curl, '203.0.113.5', 80);
    f.receive(curl, '203.0.113.5', 80, 5000);
    f.writeFile(curl, '/tmp/tool', 5000);
    const chmod = f.spawn(shell, 102, '/usr/bin/chmod');
    f.chmod(chmod, '/tmp/tool', '4755');
    const list = findings(f);
    expect(list).toContain('ingress-tool-transfer T1105 high');
    expect(list).toContain('executable-permission-in-writable-location T1222.002 medium');
    expect(list).toContain('setuid-setgid-bit T1548.001 high');
  });

  test('a downloaded file that is never executed is not ingress tool transfer', () => {
    const { f, shell } = setup();
    const curl = f.spawn(shell, 101, '/usr/bin/curl');
    f.connect(curl, '203.0.113.5', 80);
    f.writeFile(curl, '/home/u/report.pdf', 5000);
    expect(findings(f)).toEqual([]);
  });
});
