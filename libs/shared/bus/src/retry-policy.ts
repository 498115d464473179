import type { RetryPolicy } from './message-bus';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, initialBackoffMs: 100, maxBackoffMs: 5000 };

export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw new Error(`retry.attempts must be a positive integer, got ${policy.attempts}`);
  }
  if (!(policy.initialBackoffMs >= 0) || !(policy.maxBackoffMs >= policy.initialBackoffMs)) {
    throw new Error(
      `retry backoff must satisfy 0 <= initialBackoffMs <= maxBackoffMs, got ${policy.initialBackoffMs} and ${policy.maxBackoffMs}`,
    );
  }
  return policy;
}

/** The wait after the nth consecutive failure (n >= 1): doubling from the initial backoff, capped. */
export function backoffAfter(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, failures - 1));
}
