import type { Counter } from 'prom-client';
import { counter } from './bus-metrics';

/**
 * What kafkajs does when a group's committed offset is no longer in the partition's log (deleted
 * by retention while the group was stopped or lagging, or beyond its end after the topic was
 * recreated): it logs this line and commits the default offset, the earliest one for our
 * consumers (they subscribe fromBeginning), and carries on. The messages in between are gone
 * unread; the bus counts and names them.
 */
export const KAFKAJS_OFFSET_RESET_LOG = 'Offset out of range, resetting to default offset';

/** kafkajs's message for the OFFSET_OUT_OF_RANGE error code, which its connection logs first. */
export const OFFSET_OUT_OF_RANGE_ERROR =
  'The requested offset is not within the range of offsets maintained by the server';

export interface OffsetResetMetrics {
  resets: Counter<'topic' | 'partition' | 'group'>;
  lost: Counter<'topic' | 'partition' | 'group'>;
}

let metrics: OffsetResetMetrics | undefined;

export function offsetResetMetrics(): OffsetResetMetrics {
  metrics ??= {
    resets: counter(
      'kafka_consumer_offset_resets_total',
      'Committed offsets that were out of the partition log (retention) and were reset to the earliest offset.',
      ['topic', 'partition', 'group'],
    ),
    lost: counter(
      'kafka_consumer_offsets_lost_total',
      'Messages deleted by retention before the consumer group handled them.',
      ['topic', 'partition', 'group'],
    ),
  };
  return metrics;
}

/** Which partition of which Kafka group kafkajs reset, read from its log entry. */
export function offsetResetOf(
  message: string,
  fields: Record<string, unknown>,
): { groupId: string; topic: string; partition: number } | undefined {
  if (message !== KAFKAJS_OFFSET_RESET_LOG) return undefined;
  const { groupId, topic, partition } = fields;
  if (typeof groupId !== 'string' || typeof topic !== 'string' || typeof partition !== 'number')
    return undefined;
  return { groupId, topic, partition };
}

export interface OffsetReset {
  topic: string;
  partition: number;
  /** The subscription's group (the metric label) and the Kafka group it consumes in. */
  group: string;
  kafkaGroupId: string;
  /** The offset the group had committed, when known (read at start and after each rebalance, kept at each commit). */
  committed: bigint | undefined;
  /** The partition's log right after the reset, when it could be read. */
  log: { earliest: bigint; latest: bigint } | undefined;
}

/** How many messages were lost (0 when unknown or none) and the error line that names them. */
export function describeOffsetReset(reset: OffsetReset): { lost: bigint; message: string } {
  const where = `consumer group ${reset.group} (Kafka group ${reset.kafkaGroupId}) on ${reset.topic} partition ${reset.partition}`;
  const { committed, log } = reset;
  if (committed === undefined || log === undefined) {
    const unknown =
      committed === undefined ? 'its committed offset is unknown' : 'the partition log could not be read';
    return {
      lost: 0n,
      message: `${where}: committed offset out of range, reset to the earliest offset; the lost range is unknown (${unknown})`,
    };
  }
  if (committed < log.earliest) {
    const lost = log.earliest - committed;
    return {
      lost,
      message:
        `${where}: committed offset ${committed} fell out of retention (earliest offset now ${log.earliest}): ` +
        `offsets ${committed} to ${log.earliest - 1n} (${lost} messages) were deleted unread; ` +
        `reset to ${log.earliest}, consuming goes on from there`,
    };
  }
  if (committed > log.latest) {
    return {
      lost: 0n,
      message:
        `${where}: committed offset ${committed} is beyond the end of the log (${log.latest}: the topic was ` +
        `recreated or truncated); reset to the earliest offset ${log.earliest}, the partition is read again from there`,
    };
  }
  // Retention moved on again between kafkajs's fetch and ours, or another member committed since.
  return {
    lost: 0n,
    message: `${where}: committed offset ${committed} was out of range, reset to the earliest offset (now ${log.earliest}); the lost range is unknown`,
  };
}
