/**
 * When to try a provider again after a retryable error: exponential backoff with full jitter
 * (a random delay between zero and base x 2^(attempt-1), capped), never sooner than the
 * provider's Retry-After. After `maxAttempts` calls the message is dead-lettered.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 300_000 };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * @param attempt the number of provider calls made so far (1 after the first failure)
 * @param random a number in [0, 1): Math.random in production, fixed in tests
 */
export function nextRetry(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: number,
): RetryDecision {
  if (attempt >= policy.maxAttempts) return { retry: false };
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random * ceiling);
  return { retry: true, delayMs: Math.max(jittered, retryAfterMs ?? 0) };
}
