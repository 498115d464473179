import { setTimeout as sleep } from 'node:timers/promises';
import { Headers, type Topic } from '@mmp/contracts';
import { describeError, isRetriable } from '@mmp/errors';
import { linkFromHeaders, SpanKind, withSpan, type Link } from '@mmp/telemetry';
import { Logger } from '@nestjs/common';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { BusMetrics } from './bus-metrics';
import type { BatchHandler, IncomingMessage, RetryPolicy, Subscription } from './message-bus';
import { decodeRecord, toDeadLetter, type ConsumedRecord, type DeadLetter } from './record-codec';
import { backoffAfter } from './retry-policy';

/**
 * What the consume policy needs from an adapter for one partition of one subscription. The
 * policy itself (validation, batching, retries, dead letters, spans, metrics) lives here, once,
 * so that the Kafka and in-memory buses cannot drift apart.
 */
export interface PartitionConsumer<T> {
  readonly topic: Topic<T>;
  readonly groupId: string;
  readonly handler: BatchHandler<T>;
  readonly retry: RetryPolicy;
  readonly metrics: BusMetrics;
  readonly logger: Logger;
  /** Aborted when the bus stops, so that a backoff wait ends at once. */
  readonly signal: AbortSignal;
  /** False once the bus stops or a rebalance took the partition away: stop without committing. */
  isActive(): boolean;
  /** Writes to the topic's DLQ; rejects when the broker cannot take them. */
  sendToDlq(letters: readonly DeadLetter[]): Promise<void>;
}

/** A subscription's PartitionConsumer on a bus: what differs between the buses is passed in. */
export function partitionConsumerOf<T>(
  subscription: Subscription<T>,
  bus: Pick<ConsumerContext, 'retry' | 'metrics' | 'logger' | 'signal'>,
  isActive: () => boolean,
  sendToDlq: (letters: readonly DeadLetter[]) => Promise<void>,
): PartitionConsumer<T> {
  return {
    topic: subscription.topic,
    groupId: subscription.groupId,
    handler: subscription.handler,
    retry: bus.retry,
    metrics: bus.metrics,
    logger: bus.logger,
    signal: bus.signal,
    isActive,
    sendToDlq,
  };
}

/**
 * What an in-process bus (in-memory, Postgres) hands each of its group loops: the part of a
 * PartitionConsumer that is the bus's, not the subscription's.
 */
export interface ConsumerContext {
  retry: RetryPolicy;
  metrics: BusMetrics;
  logger: Logger;
  signal: AbortSignal;
  running: () => boolean;
}

/**
 * `completed`: every record was handled or dead-lettered, so the adapter may commit past the
 * last one. `interrupted`: the bus is stopping or lost the partition; nothing after the last
 * commit may be committed, and the records will be delivered again.
 */
export type ChunkOutcome = 'completed' | 'interrupted';

interface Delivery<T> {
  record: ConsumedRecord;
  message: IncomingMessage<T>;
}

type Attempt = { kind: 'handled' } | { kind: 'failed'; error: unknown } | { kind: 'interrupted' };

/**
 * Processes consecutive records of one partition, in offset order. Invalid records go to the DLQ
 * and never reach the handler. The valid ones are handed over as one batch, retried with
 * backoff; if the batch keeps failing, each message is retried alone, so only the poison
 * messages are dead-lettered and the others are processed, in order. A retriable error
 * (infrastructure down) is retried until it succeeds or the bus stops, and never dead-lettered.
 */
export async function processChunk<T>(
  records: readonly ConsumedRecord[],
  consumer: PartitionConsumer<T>,
): Promise<ChunkOutcome> {
  const deliveries: Delivery<T>[] = [];
  const invalid: DeadLetter[] = [];
  for (const record of records) {
    const decoded = decodeRecord(consumer.topic, record);
    if (decoded.ok) deliveries.push({ record, message: decoded.message });
    else invalid.push(toDeadLetter(record, consumer.groupId, decoded.reason));
  }

  if (invalid.length > 0 && !(await deadLetter(invalid, consumer))) return 'interrupted';
  if (deliveries.length === 0) return 'completed';

  const batch = await attempt(deliveries, consumer);
  switch (batch.kind) {
    case 'handled':
      return 'completed';
    case 'interrupted':
      return 'interrupted';
    case 'failed':
      break;
  }

  const [only] = deliveries;
  if (deliveries.length === 1 && only) {
    const letter = toDeadLetter(only.record, consumer.groupId, describeError(batch.error));
    return (await deadLetter([letter], consumer)) ? 'completed' : 'interrupted';
  }
  consumer.logger.warn(
    `${consumer.topic.name} [${consumer.groupId}]: a batch of ${deliveries.length} failed ${consumer.retry.attempts} times (${describeError(batch.error)}); retrying message by message`,
  );
  for (const delivery of deliveries) {
    const single = await attempt([delivery], consumer);
    switch (single.kind) {
      case 'handled':
        break;
      case 'interrupted':
        return 'interrupted';
      case 'failed':
        if (
          !(await deadLetter(
            [toDeadLetter(delivery.record, consumer.groupId, describeError(single.error))],
            consumer,
          ))
        ) {
          return 'interrupted';
        }
        break;
    }
  }
  return 'completed';
}

/** Calls the handler until it succeeds, fails `attempts` times with a non-retriable error, or the bus stops. */
async function attempt<T>(
  deliveries: readonly Delivery<T>[],
  consumer: PartitionConsumer<T>,
): Promise<Attempt> {
  let failures = 0;
  let retriableFailures = 0;
  for (;;) {
    if (!consumer.isActive()) return { kind: 'interrupted' };
    try {
      await handle(deliveries, consumer);
      return { kind: 'handled' };
    } catch (error) {
      let wait: number;
      if (isRetriable(error)) {
        retriableFailures += 1;
        wait = backoffAfter(consumer.retry, retriableFailures);
        consumer.logger.warn(
          `${consumer.topic.name} [${consumer.groupId}]: retriable failure ${retriableFailures} at offset ${deliveries[0]?.record.offset}, retrying in ${wait} ms: ${describeError(error)}`,
        );
      } else {
        failures += 1;
        if (failures >= consumer.retry.attempts) return { kind: 'failed', error };
        wait = backoffAfter(consumer.retry, failures);
      }
      if (!(await pause(wait, consumer))) return { kind: 'interrupted' };
    }
  }
}

async function handle<T>(deliveries: readonly Delivery<T>[], consumer: PartitionConsumer<T>): Promise<void> {
  const messages = deliveries.map((d) => d.message);
  const links = messages
    .map((m) => linkFromHeaders(m.headers))
    .filter((link): link is Link => link !== undefined);
  const labels = { topic: consumer.topic.name, group: consumer.groupId };
  const endTimer = consumer.metrics.batchDuration.startTimer(labels);
  try {
    // A batch mixes messages from many traces: its span starts a trace of its own and links to them.
    await context.with(ROOT_CONTEXT, () =>
      withSpan(`${consumer.topic.name} process`, () => consumer.handler(messages), {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': consumer.topic.name,
          'messaging.destination.partition.id': String(messages[0]?.partition ?? ''),
          'messaging.consumer.group.name': consumer.groupId,
          'messaging.batch.message_count': messages.length,
        },
      }),
    );
    consumer.metrics.consumed.inc(labels, messages.length);
  } finally {
    endTimer();
  }
}

/** Sends to the DLQ, retrying while the broker cannot take it: false if the bus stopped first. */
async function deadLetter<T>(
  letters: readonly DeadLetter[],
  consumer: PartitionConsumer<T>,
): Promise<boolean> {
  for (let failures = 1; ; failures += 1) {
    try {
      await consumer.sendToDlq(letters);
      consumer.metrics.deadLettered.inc(
        { topic: consumer.topic.name, group: consumer.groupId },
        letters.length,
      );
      for (const letter of letters) {
        consumer.logger.warn(
          `${consumer.topic.name} [${consumer.groupId}]: offset ${letter.headers[Headers.dlqSourceOffset]} of partition ${letter.headers[Headers.dlqSourcePartition]} sent to ${consumer.topic.dlq}: ${letter.headers[Headers.dlqReason]}`,
        );
      }
      return true;
    } catch (error) {
      const wait = backoffAfter(consumer.retry, failures);
      consumer.logger.error(
        `${consumer.topic.dlq}: cannot write dead letters, retrying in ${wait} ms: ${describeError(error)}`,
      );
      if (!(await pause(wait, consumer))) return false;
    }
  }
}

/** Waits, unless the bus stops meanwhile; false if the partition is no longer this consumer's to handle. */
async function pause<T>(ms: number, consumer: PartitionConsumer<T>): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: consumer.signal });
  } catch {
    return false;
  }
  return consumer.isActive();
}
