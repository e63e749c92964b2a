/**
 * Audit log lines in the formats distributions write, composed here from the documented record format (audit.rules(7),
 * auditd.conf(5) log_format/name_format, the kernel's audit_log_* output): none is copied from a real machine.
 */
export const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

/** sockaddr_in / sockaddr_in6 as audit prints them (family little-endian, port big-endian). */
export function saddr4(ip: string, port: number): string {
  const p = port.toString(16).padStart(4, '0');
  const a = ip.split('.').map((n) => Number(n).toString(16).padStart(2, '0')).join('');
  return `0200${p}${a}0000000000000000`.toUpperCase();
}

export function saddr6Loopback(port: number): string {
  return `0A00${port.toString(16).padStart(4, '0')}00000000${'0'.repeat(30)}0100000000`.toUpperCase();
}

const T = '1764900000';

/** Debian 12 / Ubuntu 22.04 auditd, log_format RAW: a shell started by a daemon (auid and ses unset). */
export function debianCurl(): string[] {
  return [
    `type=SYSCALL msg=audit(${T}.100:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=700 pid=701 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" subj=unconfined key="pm_exec"`,
    `type=EXECVE msg=audit(${T}.100:501): argc=3 a0="curl" a1="-s" a2=${hex('http://127.0.0.1:8080/a file')}`,
    `type=CWD msg=audit(${T}.100:501): cwd="/root"`,
    `type=PATH msg=audit(${T}.100:501): item=0 name="/usr/bin/curl" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
    `type=PATH msg=audit(${T}.100:501): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=99 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
    `type=PROCTITLE msg=audit(${T}.100:501): proctitle=${hex('curl\0-s\0http://127.0.0.1:8080/a file')}`,
    `type=EOE msg=audit(${T}.100:501): `,
    `type=SYSCALL msg=audit(${T}.150:502): arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=7ffd a2=10 a3=0 items=0 ppid=700 pid=701 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" subj=unconfined key="pm_net"`,
    `type=SOCKADDR msg=audit(${T}.150:502): saddr=${saddr4('127.0.0.1', 8080)}`,
    `type=PROCTITLE msg=audit(${T}.150:502): proctitle=${hex('curl\0-s\0http://127.0.0.1:8080/a file')}`,
    `type=EOE msg=audit(${T}.150:502): `,
  ];
}

/** RHEL 8/9: name_format=hostname (node=), log_format ENRICHED (interpreted fields after 0x1d). */
export function rhelEnriched(): string[] {
  const gs = '\x1d';
  return [
    `node=web1 type=SYSCALL msg=audit(${T}.200:9001): arch=c000003e syscall=43 success=yes exit=4 a0=3 a1=0 a2=0 a3=0 items=0 ppid=1 pid=900 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm="python3" exe="/usr/bin/python3.9" subj=system_u:system_r:unconfined_service_t:s0 key="pm_net"${gs}ARCH=x86_64 SYSCALL=accept AUID="alice" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
    `node=web1 type=SOCKADDR msg=audit(${T}.200:9001): saddr=${saddr6Loopback(40000)}${gs}SADDR={ saddr_fam=inet6 laddr=::1 lport=40000 }`,
    `node=web1 type=PROCTITLE msg=audit(${T}.200:9001): proctitle=${hex('python3\0-m\0server')}`,
    `node=web1 type=EOE msg=audit(${T}.200:9001): `,
    `node=web1 type=USER_LOGIN msg=audit(${T}.300:9002): pid=950 uid=0 auid=1000 ses=3 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=? addr=10.0.0.5 terminal=ssh res=success'${gs}UID="root" AUID="alice" ID="alice"`,
  ];
}

/** RHEL 7: RAW, no EOE after some records on old kernels; a relative openat resolved with CWD; a rename. */
export function rhel7Files(): string[] {
  return [
    `type=SYSCALL msg=audit(${T}.400:77): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffe a2=241 a3=1b6 items=2 ppid=1200 pid=1201 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=5 comm="bash" exe="/usr/bin/bash" key=(null)`,
    `type=CWD msg=audit(${T}.400:77):  cwd="/home/alice"`,
    `type=PATH msg=audit(${T}.400:77): item=0 name="/home/alice" inode=11 dev=fd:00 mode=040700 ouid=1000 ogid=1000 rdev=00:00 objtype=PARENT`,
    `type=PATH msg=audit(${T}.400:77): item=1 name="notes.txt" inode=12 dev=fd:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 objtype=CREATE`,
    `type=SYSCALL msg=audit(${T}.500:78): arch=c000003e syscall=82 success=yes exit=0 a0=1 a1=2 a2=0 a3=0 items=4 ppid=1200 pid=1202 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=5 comm="mv" exe="/usr/bin/mv" key=(null)`,
    `type=CWD msg=audit(${T}.500:78):  cwd="/tmp"`,
    `type=PATH msg=audit(${T}.500:78): item=0 name="/tmp" inode=1 dev=fd:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
    `type=PATH msg=audit(${T}.500:78): item=1 name="/tmp" inode=1 dev=fd:00 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT`,
    `type=PATH msg=audit(${T}.500:78): item=2 name="a.sh" inode=5 dev=fd:00 mode=0100755 ouid=1000 ogid=1000 rdev=00:00 nametype=DELETE`,
    `type=PATH msg=audit(${T}.500:78): item=3 name="b.sh" inode=5 dev=fd:00 mode=0100755 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE`,
  ];
}

/** Kernel messages in syslog when no auditd runs (Ubuntu without auditd): numeric types, printk prefix. */
export function syslogKernel(): string[] {
  return [
    `Dec  5 02:00:00 host kernel: [ 1234.5678] audit: type=1300 audit(${T}.600:123): arch=c000003e syscall=87 success=yes exit=0 a0=55 a1=0 a2=0 a3=0 items=2 ppid=1 pid=1300 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="rm" exe="/usr/bin/rm" key="pm_file"`,
    `Dec  5 02:00:00 host kernel: [ 1234.5678] audit: type=1302 audit(${T}.600:123): item=0 name="/var/tmp/" inode=2 dev=08:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`,
    `Dec  5 02:00:00 host kernel: [ 1234.5678] audit: type=1302 audit(${T}.600:123): item=1 name="/var/tmp/x.sh" inode=3 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=DELETE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`,
    `Dec  5 02:00:00 host kernel: [ 1234.5678] audit: type=1320 audit(${T}.600:123): `,
  ];
}

/** A long argument split by the kernel across EXECVE records (aN_len, aN[k]). */
export function splitExecve(): string[] {
  const long = 'x'.repeat(30);
  return [
    `type=SYSCALL msg=audit(${T}.700:300): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=701 pid=702 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=1 comm="sh" exe="/usr/bin/dash" key="pm_exec"`,
    `type=EXECVE msg=audit(${T}.700:300): argc=3 a0="sh" a1="-c"`,
    `type=EXECVE msg=audit(${T}.700:300): a2_len=60 a2[0]=${hex(long)}`,
    `type=EXECVE msg=audit(${T}.700:300): a2[1]=${hex(long)}`,
    `type=PATH msg=audit(${T}.700:300): item=0 name="/bin/sh" inode=8 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
    `type=EOE msg=audit(${T}.700:300): `,
  ];
}
