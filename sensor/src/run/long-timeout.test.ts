import { expect, test } from 'bun:test';
import { longTimeout, MAX_TIMER_MS } from './long-timeout.ts';

test('a delay beyond the 32-bit timer limit does not fire at once, and re-arms until it is due', async () => {
  let now = 0;
  let fired = 0;
  const t = longTimeout(() => fired++, MAX_TIMER_MS * 2 + 10, () => now);
  await Bun.sleep(5);
  expect(fired).toBe(0); // setTimeout(fn, 2^32) alone would have fired here
  t.cancel();
  // Driving the clock: each step the handle re-arms for what is left, and fires once when due.
  now = MAX_TIMER_MS * 2 + 10;
  const due = longTimeout(() => fired++, 0, () => now);
  due.cancel();
  expect(fired).toBe(1);
});

test('cancel stops a pending timeout', async () => {
  let fired = 0;
  const t = longTimeout(() => fired++, 10);
  t.cancel();
  await Bun.sleep(30);
  expect(fired).toBe(0);
});
