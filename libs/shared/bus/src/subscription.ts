import type { Subscription } from './message-bus';

export const DEFAULT_MAX_BATCH_SIZE = 500;

export function subscriptionKey(subscription: { topic: { name: string }; groupId: string }): string {
  return `${subscription.topic.name} [${subscription.groupId}]`;
}

/**
 * One handler per topic and group: a second one would compete with the first for partitions,
 * each seeing only part of the messages, which is never what a registration means.
 */
export function validateSubscription<T>(
  subscription: Subscription<T>,
  existing: readonly { topicName: string; groupId: string }[],
): void {
  const { maxBatchSize } = subscription;
  if (maxBatchSize !== undefined && (!Number.isInteger(maxBatchSize) || maxBatchSize < 1)) {
    throw new Error(
      `${subscriptionKey(subscription)}: maxBatchSize must be a positive integer, got ${maxBatchSize}`,
    );
  }
  if (!subscription.groupId) throw new Error(`${subscription.topic.name}: groupId must not be empty`);
  if (
    existing.some(
      (other) => other.topicName === subscription.topic.name && other.groupId === subscription.groupId,
    )
  ) {
    throw new Error(`${subscriptionKey(subscription)} is already subscribed`);
  }
}
