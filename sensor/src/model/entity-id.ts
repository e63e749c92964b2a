import { createHash } from 'node:crypto';
import { NS_PER_TICK } from './host.ts';

/**
 * ECS process.entity_id: a hash of host id, pid and start time in clock ticks since boot. Ticks, not nanoseconds,
 * because /proc/<pid>/stat gives ticks: a process seen in /proc at start-up and the same process seen by eBPF
 * (task->group_leader->start_boottime, in ns) must get the same id, and so must two runs of the sensor.
 */
export function processEntityId(hostId: string, pid: number, startTicks: number): string {
  return createHash('sha256').update(`${hostId}|${pid}|${startTicks}`).digest('base64url').slice(0, 22);
}

/** The kernel's nsec_to_clock_t: truncating division, exactly as /proc computes starttime. */
export function ticksFromBootNs(startBootNs: bigint | number): number {
  return typeof startBootNs === 'bigint' ? Number(startBootNs / BigInt(NS_PER_TICK)) : Math.floor(startBootNs / NS_PER_TICK);
}
