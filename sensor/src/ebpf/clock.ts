/**
 * Record timestamps are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns: keeps counting
 * through suspend, unlike CLOCK_MONOTONIC). BootClock turns them into wall-clock time with
 * an offset sampled from clock_gettime; call sync() now and then to follow NTP steps.
 */
import { clockNs, CLOCK_BOOTTIME, CLOCK_REALTIME } from './libbpf.ts';

export class BootClock {
  /** realtime − boottime, ns */
  offsetNs = 0;

  constructor() {
    this.sync();
  }

  /** Sample (realtime, boottime) a few times; keep the pair read closest together. */
  sync(): void {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const b0 = clockNs(CLOCK_BOOTTIME);
      const r = clockNs(CLOCK_REALTIME);
      const b1 = clockNs(CLOCK_BOOTTIME);
      if (b1 - b0 < best) {
        best = b1 - b0;
        this.offsetNs = r - (b0 + b1) / 2;
      }
    }
  }

  /** boot ns → Unix epoch ms (fractional) */
  toEpochMs(bootNs: number): number {
    return (bootNs + this.offsetNs) / 1e6;
  }

  /** boot ns → ISO-8601 with microseconds (ECS @timestamp style) */
  toIso(bootNs: number): string {
    const epochNs = bootNs + this.offsetNs;
    const ms = Math.floor(epochNs / 1e6);
    const micros = Math.floor((epochNs % 1e6) / 1e3);
    const iso = new Date(ms).toISOString(); // ...sss Z
    return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
  }

  nowBootNs(): number {
    return clockNs(CLOCK_BOOTTIME);
  }
}
