import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@mmp/delivery-domain';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The knobs of sending that tests pin: the retry policy, the jitter source, and how a rate
 * limit waits. Retry times themselves come from the injectable clock.
 */
export interface DeliveryTiming {
  retryPolicy: RetryPolicy;
  /** A number in [0, 1) for backoff jitter. */
  random(): number;
  /** Waits for a rate-limit slot. */
  sleep(ms: number): Promise<void>;
  /** How often the retry loop looks for due retries on wall time; 0 turns the loop off (tests drive it). */
  retryPollMs: number;
}

export const DELIVERY_TIMING = Symbol('DeliveryTiming');

export const defaultDeliveryTiming: DeliveryTiming = {
  retryPolicy: DEFAULT_RETRY_POLICY,
  random: () => Math.random(),
  sleep: (ms) => delay(ms),
  retryPollMs: 1_000,
};
