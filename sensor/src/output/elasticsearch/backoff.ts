/**
 * Exponential backoff with jitter: attempt n waits between half and all of min(max, initial × 2ⁿ) ("equal
 * jitter": the delay still grows with every attempt, and senders that failed together do not retry together).
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, policy);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
