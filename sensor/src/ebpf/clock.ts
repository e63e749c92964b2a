/**
 * Record timestamps are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns: keeps counting
 * through suspend, unlike CLOCK_MONOTONIC). BootClock turns them into wall-clock time with
 * an offset sampled from clock_gettime; call sync() now and then to follow NTP steps.
 */
import { clockNs, CLOCK_BOOTTIME, CLOCK_REALTIME } from './libbpf.ts';

/** "000" … "999": the millisecond and microsecond digits of a timestamp, made once. */
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const threeDigits = (n: number) => THREE_DIGITS[n] ?? String(n).padStart(3, '0');

export class BootClock {
  /** realtime − boottime, ns */
  offsetNs = 0;
  /** The last second toIso formatted and its text up to the milliseconds: most records share their second. */
  private isoSecond = Number.NaN;
  private isoPrefix = '';

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
    const second = Math.floor(ms / 1000);
    if (second !== this.isoSecond) {
      this.isoSecond = second;
      this.isoPrefix = new Date(second * 1000).toISOString().slice(0, -4); // without "sssZ"
    }
    return `${this.isoPrefix}${threeDigits(ms - second * 1000)}${threeDigits(micros)}Z`;
  }

  nowBootNs(): number {
    return clockNs(CLOCK_BOOTTIME);
  }
}
