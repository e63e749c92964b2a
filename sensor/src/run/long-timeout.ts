/**
 * setTimeout holds a signed 32-bit millisecond delay: anything above 2,147,483,647 ms (~24.8 days) fires at once.
 * A long run (`--duration 3000000`) is therefore waited for in steps no longer than that.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export interface LongTimeout {
  cancel(): void;
}

export function longTimeout(fn: () => void, delayMs: number, now: () => number = Date.now): LongTimeout {
  const due = now() + delayMs;
  let handle: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const left = due - now();
    if (left <= 0) {
      handle = undefined;
      fn();
      return;
    }
    handle = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return {
    cancel: () => {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
  };
}
