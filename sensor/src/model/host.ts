import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
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
}

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

export function hostIdentity(configuredName = ''): HostIdentity {
  return { id: readMachineId(), name: configuredName || hostname(), bootTimeMs: readBootTimeMs() };
}
