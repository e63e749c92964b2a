import { existsSync, readFileSync } from 'node:fs';
import { arch, hostname, release } from 'node:os';
import { createHash } from 'node:crypto';

/** Linux reports process start times in USER_HZ ticks; it is 100 on every architecture Debian ships. */
export const USER_HZ = 100;
export const NS_PER_TICK = 1_000_000_000 / USER_HZ;

export interface HostIdentity {
  /** ECS host.id: the machine id, stable across reboots and sensor restarts. */
  id: string;
  name: string;
  /** Wall-clock time of boot in ms (btime from /proc/stat), to turn boot-relative times into timestamps. */
  bootTimeMs: number;
  /**
   * ECS host.os: what Elastic's prebuilt rules filter on first (host.os.type == "linux"). Always set for the host
   * the sensor runs on; absent for a host known only from its records (`provmon analyze` of another host's logs).
   */
  os?: HostOs;
  /** ECS host.architecture, the kernel's name for it (x86_64, aarch64); absent like `os` */
  architecture?: string;
}

export interface HostOs {
  type: 'linux';
  /** the distribution family: ID_LIKE's first word, else ID (debian, rhel, ...) */
  family: string;
  /** NAME from os-release, e.g. "Debian GNU/Linux" */
  name: string;
  /** VERSION from os-release, e.g. "12 (bookworm)" */
  version?: string;
  /** PRETTY_NAME */
  full?: string;
  /** ID from os-release (as Beats reports it), e.g. "debian" */
  platform: string;
  /** uname -r */
  kernel: string;
}

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["'`$\\])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

export function readHostOs(kernel = release()): HostOs {
  let fields: Record<string, string> = {};
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    if (existsSync(path)) {
      fields = parseOsRelease(readFileSync(path, 'utf8'));
      break;
    }
  }
  // os-release's documented defaults when a key is missing.
  const platform = fields.ID || 'linux';
  return {
    type: 'linux',
    family: fields.ID_LIKE?.split(/\s+/)[0] || platform,
    name: fields.NAME || 'Linux',
    ...(fields.VERSION ? { version: fields.VERSION } : fields.VERSION_ID ? { version: fields.VERSION_ID } : {}),
    ...(fields.PRETTY_NAME ? { full: fields.PRETTY_NAME } : {}),
    platform,
    kernel,
  };
}

/** Node's arch names mapped to the kernel's (uname -m), which is what ECS examples and Elastic agents report. */
const KERNEL_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function readMachineId(): string {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    if (existsSync(path)) {
      const id = readFileSync(path, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    }
  }
  // No machine id (a minimal container): derive one from the hostname so ids stay stable at least per name.
  return createHash('sha256').update(`provmon-host:${hostname()}`).digest('hex').slice(0, 32);
}

export function readBootTimeMs(statText = readFileSync('/proc/stat', 'utf8')): number {
  const line = statText.split('\n').find((l) => l.startsWith('btime '));
  if (!line) throw new Error('/proc/stat has no btime line');
  return Number(line.slice(6).trim()) * 1000;
}

/** The configured name and id win over the machine's (config `hostname`, `host_id`). */
export function hostIdentity(configuredName = '', configuredId = ''): HostIdentity {
  return {
    id: configuredId || readMachineId(),
    name: configuredName || hostname(),
    bootTimeMs: readBootTimeMs(),
    os: readHostOs(),
    architecture: KERNEL_ARCH[arch()] ?? arch(),
  };
}

/** The ECS `host` object every document carries, built once per sensor. */
export function ecsHost(host: HostIdentity): { name: string; id: string; os?: HostOs; architecture?: string } {
  return { name: host.name, id: host.id, ...(host.os ? { os: host.os } : {}), ...(host.architecture ? { architecture: host.architecture } : {}) };
}
