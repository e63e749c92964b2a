/**
 * A synthetic raw audit log for benchmarks: a realistic mix of syscall events (exec with EXECVE/CWD/PATH/PROCTITLE,
 * openat with CWD/PATH, connect with SOCKADDR; one EOE per event as the kernel's record stream has it) from a few
 * hundred processes, spread over a time span. Written in the documented record format, streamed to disk.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();

/** Writes about `records` records; returns the exact count. Connects go to `destinations` (ip, port). */
export function writeBenchAuditLog(path: string, records: number, o: { startSec: number; spanSec: number; destinations: { ip: string; port: number }[] }): number {
  const fd = openSync(path, 'w');
  let buf = '';
  let n = 0;
  let serial = 1000;
  const events = Math.ceil(records / 4.5);
  for (let e = 0; e < events && n < records; e++) {
    const t = (o.startSec + (e / events) * o.spanSec).toFixed(3);
    const pid = 20000 + (e % 400);
    const id = `audit(${t}:${serial++})`;
    // fields in the kernel's order (ausearch depends on it)
    const head = (syscall: number, exit: number, a0: string, items: number) =>
      `arch=c000003e syscall=${syscall} success=yes exit=${exit} a0=${a0} a1=7ffd a2=0 a3=0 items=${items} ppid=${1000 + (e % 7)} pid=${pid} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3`;
    const kind = e % 3;
    const lines: string[] = [];
    if (kind === 0) {
      lines.push(`type=SYSCALL msg=${id}: ${head(59, 0, '55d0', 2)} comm="worker" exe="/usr/bin/worker" key="exec"`);
      lines.push(`type=EXECVE msg=${id}: argc=3 a0="worker" a1="--job" a2=${hex(`task ${e}`)}`);
      lines.push(`type=CWD msg=${id}: cwd="/srv/app"`);
      lines.push(`type=PATH msg=${id}: item=0 name="/usr/bin/worker" inode=1234 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`);
      lines.push(`type=PATH msg=${id}: item=1 name="/lib64/ld-linux-x86-64.so.2" inode=99 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`);
    } else if (kind === 1) {
      lines.push(`type=SYSCALL msg=${id}: ${head(257, 3, 'ffffff9c', 1)} comm="worker" exe="/usr/bin/worker" key="file"`);
      lines.push(`type=CWD msg=${id}: cwd="/srv/app"`);
      lines.push(`type=PATH msg=${id}: item=0 name="data/${e % 5000}.bin" inode=${e} dev=08:01 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`);
    } else {
      const d = o.destinations[e % o.destinations.length]!;
      const saddr = `0200${d.port.toString(16).padStart(4, '0')}${d.ip
        .split('.')
        .map((x) => Number(x).toString(16).padStart(2, '0'))
        .join('')}0000000000000000`.toUpperCase();
      lines.push(`type=SYSCALL msg=${id}: ${head(42, 0, '5', 0)} comm="worker" exe="/usr/bin/worker" key="net"`);
      lines.push(`type=SOCKADDR msg=${id}: saddr=${saddr}`);
    }
    lines.push(`type=PROCTITLE msg=${id}: proctitle=${hex(`worker\0--job\0task ${e}`)}`);
    lines.push(`type=EOE msg=${id}: `);
    n += lines.length;
    buf += `${lines.join('\n')}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return n;
}
