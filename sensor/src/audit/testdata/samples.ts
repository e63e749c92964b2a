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

const U = '1764910000';
const GS = '\x1d';

/**
 * Debian 12 (auditd 3.0, log_format ENRICHED by default): sudo (USER_ACCT, USER_CMD with the command hex-encoded
 * because it holds spaces, session records), a failed su, useradd and passwd, and systemd starting a unit.
 */
export function debianUserRecords(): string[] {
  return [
    `type=USER_ACCT msg=audit(${U}.100:801): pid=5001 uid=1000 auid=1000 ses=7 subj=unconfined msg='op=PAM:accounting grantors=pam_permit acct="alice" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/1 res=success'${GS}UID="alice" AUID="alice"`,
    `type=USER_CMD msg=audit(${U}.100:802): pid=5001 uid=1000 auid=1000 ses=7 subj=unconfined msg='cwd="/home/alice" cmd=${hex('systemctl restart nginx')} exe="/usr/bin/sudo" terminal=pts/1 res=success'${GS}UID="alice" AUID="alice"`,
    `type=CRED_REFR msg=audit(${U}.104:803): pid=5001 uid=1000 auid=1000 ses=7 subj=unconfined msg='op=PAM:setcred grantors=pam_permit,pam_cap acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/1 res=success'${GS}UID="alice" AUID="alice"`,
    `type=USER_START msg=audit(${U}.104:804): pid=5001 uid=1000 auid=1000 ses=7 subj=unconfined msg='op=PAM:session_open grantors=pam_limits,pam_permit,pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/1 res=success'${GS}UID="alice" AUID="alice"`,
    `type=USER_AUTH msg=audit(${U}.200:805): pid=5010 uid=1001 auid=1001 ses=8 subj=unconfined msg='op=PAM:authentication grantors=? acct="root" exe="/usr/bin/su" hostname=devbox addr=? terminal=/dev/pts/2 res=failed'${GS}UID="bob" AUID="bob"`,
    `type=ADD_USER msg=audit(${U}.300:806): pid=5020 uid=0 auid=1000 ses=7 subj=unconfined msg='op=add-user acct="mallory" exe="/usr/sbin/useradd" hostname=devbox addr=? terminal=pts/1 res=success'${GS}UID="root" AUID="alice"`,
    `type=USER_CHAUTHTOK msg=audit(${U}.310:807): pid=5021 uid=0 auid=1000 ses=7 subj=unconfined msg='op=PAM:chauthtok grantors=pam_permit,pam_unix acct="mallory" exe="/usr/bin/passwd" hostname=devbox addr=? terminal=pts/1 res=success'${GS}UID="root" AUID="alice"`,
    `type=SERVICE_START msg=audit(${U}.400:808): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=nginx comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'${GS}UID="root" AUID="unset"`,
  ];
}

/**
 * Ubuntu 22.04 (log_format RAW): sshd refusing a password for an unknown account, then a key login with its
 * session, and an AppArmor denial (AVC with apparmor="DENIED").
 */
export function ubuntuUserRecords(): string[] {
  return [
    `type=USER_AUTH msg=audit(${U}.500:901): pid=6100 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=? acct="admin" exe="/usr/sbin/sshd" hostname=203.0.113.50 addr=203.0.113.50 terminal=ssh res=failed'`,
    `type=USER_LOGIN msg=audit(${U}.510:902): pid=6100 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=login acct="admin" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.50 terminal=sshd res=failed'`,
    `type=USER_LOGIN msg=audit(${U}.600:903): pid=6200 uid=0 auid=1000 ses=12 subj=unconfined msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=client.example.net addr=198.51.100.7 terminal=/dev/pts/3 res=success'`,
    `type=USER_START msg=audit(${U}.600:904): pid=6200 uid=0 auid=1000 ses=12 subj=unconfined msg='op=PAM:session_open grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_permit,pam_umask,pam_unix,pam_systemd,pam_mail,pam_limits,pam_env,pam_env,pam_selinux acct="ubuntu" exe="/usr/sbin/sshd" hostname=198.51.100.7 addr=198.51.100.7 terminal=ssh res=success'`,
    `type=AVC msg=audit(${U}.700:905): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=6300 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
  ];
}

/**
 * RHEL 7 (RAW, objtype-era kernel): an sshd login, an SELinux denial riding along its SYSCALL record (the process
 * comes from there), a crash (ANOM_ABEND) and the audit daemon's own start.
 */
export function rhel7UserRecords(): string[] {
  return [
    `type=USER_LOGIN msg=audit(${U}.800:1001): pid=7100 uid=0 auid=1000 ses=5 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'`,
    `type=AVC msg=audit(${U}.900:1002): avc:  denied  { read } for  pid=7200 comm="httpd" name="passwd" dev="dm-0" ino=33 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:passwd_file_t:s0 tclass=file`,
    `type=SYSCALL msg=audit(${U}.900:1002): arch=c000003e syscall=2 success=no exit=-13 a0=7f a1=0 a2=1b6 a3=0 items=0 ppid=7000 pid=7200 auid=4294967295 uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=4294967295 comm="httpd" exe="/usr/sbin/httpd" subj=system_u:system_r:httpd_t:s0 key=(null)`,
    `type=ANOM_ABEND msg=audit(${U}.950:1003): auid=1000 uid=1000 gid=1000 ses=5 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 pid=7300 comm="a.out" exe="/home/alice/a.out" sig=11 res=1`,
    `type=DAEMON_START msg=audit(${U}.990:4021): op=start ver=2.8.5 format=raw kernel=3.10.0-1160.el7.x86_64 auid=4294967295 pid=650 uid=0 ses=4294967295 subj=system_u:system_r:auditd_t:s0 res=success`,
  ];
}

/**
 * RHEL 8/9 (name_format=hostname, log_format ENRICHED): sudo run by alice whose auid survives, a group added,
 * a rule added with auditctl (CONFIG_CHANGE with its SYSCALL), and a logout.
 */
export function rhel9UserRecords(): string[] {
  return [
    `node=db1 type=USER_CMD msg=audit(${U}.100:2001): pid=8100 uid=1000 auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 msg='cwd="/root" cmd=${hex('cat /etc/shadow')} exe="/usr/bin/sudo" terminal=pts/0 res=success'${GS}UID="alice" AUID="alice"`,
    `node=db1 type=ADD_GROUP msg=audit(${U}.200:2002): pid=8200 uid=0 auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 msg='op=add-group acct="backup" exe="/usr/sbin/groupadd" hostname=db1 addr=? terminal=pts/0 res=success'${GS}UID="root" AUID="alice"`,
    `node=db1 type=CONFIG_CHANGE msg=audit(${U}.300:2003): auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 op=add_rule key="watch_shadow" list=4 res=1${GS}AUID="alice"`,
    `node=db1 type=SYSCALL msg=audit(${U}.300:2003): arch=c000003e syscall=44 success=yes exit=1076 a0=4 a1=7ffc a2=434 a3=0 items=1 ppid=8250 pid=8300 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="auditctl" exe="/usr/sbin/auditctl" subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 key=(null)${GS}ARCH=x86_64 SYSCALL=sendto AUID="alice" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"`,
    `node=db1 type=SOCKADDR msg=audit(${U}.300:2003): saddr=100000000000000000000000${GS}SADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }`,
    `node=db1 type=PROCTITLE msg=audit(${U}.300:2003): proctitle=${hex('auditctl\0-w\0/etc/shadow\0-k\0watch_shadow')}`,
    `node=db1 type=USER_LOGOUT msg=audit(${U}.400:2004): pid=8050 uid=0 auid=1000 ses=3 subj=system_u:system_r:local_login_t:s0-s0:c0.c1023 msg='op=logout id=1000 exe="/usr/bin/login" hostname=db1 addr=? terminal=tty1 res=success'${GS}UID="root" AUID="alice" ID="alice"`,
  ];
}

/** A user-space record in the kernel log (no auditd running): numeric type 1112 (USER_LOGIN). */
export function syslogUserRecord(): string[] {
  return [
    `Dec  5 04:46:40 host kernel: [ 2234.5] audit: type=1112 audit(${U}.500:3001): pid=9100 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=${hex('bad user')} exe="/usr/sbin/sshd" hostname=? addr=192.0.2.66 terminal=ssh res=failed'`,
  ];
}

/** curl (pid 4242, session 2 of uid 1000) runs and connects to ip:port at time t (seconds): what lo.pcapng's flows need. */
export function curlConnect(t: string, ip: string, port: number): string[] {
  const who = 'ppid=4200 pid=4242 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=2 comm="curl" exe="/usr/bin/curl"';
  return [
    `type=SYSCALL msg=audit(${t}.700:71): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ${who} key="pm_exec"`,
    `type=EXECVE msg=audit(${t}.700:71): argc=2 a0="curl" a1=${hex(`http://${ip}:${port}/`)}`,
    `type=SYSCALL msg=audit(${t}.755:72): arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=2 a2=10 a3=0 items=0 ${who} key="pm_net"`,
    `type=SOCKADDR msg=audit(${t}.755:72): saddr=${saddr4(ip, port)}`,
  ];
}
