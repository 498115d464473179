import { createHash } from 'node:crypto';

/**
 * Stable assignment: holdout membership and variants come from a hash of who and where, never
 * from Math.random, so a retry, a replay or a second instance always assigns the same.
 */
function bucketOf(parts: readonly string[], buckets: number): number {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  return digest.readUInt32BE(0) % buckets;
}

/** True for a stable `percent` share of customers per journey (to 0.01%). */
export function isInHoldout(customerId: string, journeyKey: string, percent: number): boolean {
  if (percent <= 0) return false;
  return bucketOf(['holdout', journeyKey, customerId], 10_000) < Math.round(percent * 100);
}

/** Picks a variant by weight, the same one every time for this customer, journey and step. */
export function chooseVariant<V extends { weight: number }>(
  customerId: string,
  journeyKey: string,
  stepId: string,
  variants: readonly V[],
): V {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const first = variants[0];
  if (!first || total <= 0)
    throw new Error(`step ${stepId} of ${journeyKey} has no variant with a positive weight`);
  let point = bucketOf(['variant', journeyKey, stepId, customerId], 1_000_000) * (total / 1_000_000);
  for (const variant of variants) {
    if (point < variant.weight) return variant;
    point -= variant.weight;
  }
  return first;
}

function idOf(prefix: string, parts: readonly string[]): string {
  return `${prefix}_${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;
}

/** One instance per journey and milestone occurrence: a redelivered trigger finds the same one. */
export const instanceIdOf = (journeyKey: string, occurrenceId: string): string =>
  idOf('jin', [journeyKey, occurrenceId]);

/** One message per instance and step: the idempotency key delivery sends by. */
export const messageIdOf = (instanceId: string, stepId: string): string => idOf('msg', [instanceId, stepId]);
