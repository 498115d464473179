import { setTimeout as sleep } from 'node:timers/promises';
import type { Topic } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { Logger } from '@nestjs/common';
import { busMetrics, type BusMetrics } from './bus-metrics';
import { processChunk, type PartitionConsumer } from './consume-policy';
import type {
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RawOutgoingRecord,
  RetryPolicy,
  Subscription,
} from './message-bus';
import { publishValidated } from './publish-policy';
import type { ConsumedRecord, DeadLetter } from './record-codec';
import { resolveRetryPolicy } from './retry-policy';
import { DEFAULT_MAX_BATCH_SIZE, subscriptionKey, validateSubscription } from './subscription';

export interface InMemoryBusOptions {
  /** Partitions per topic (4 unless told); a key always lands on the same one. */
  partitions?: number;
  retry?: Partial<RetryPolicy>;
}

interface StoredRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
  /** Order of publication across all partitions of the topic, for messagesOn(). */
  sequence: number;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/**
 * The in-process bus for `npm start` without Kafka and for specs: the same contract as KafkaBus
 * (keyed partitions, per-group offsets, batches, retries, DLQ, at-least-once), in memory.
 * Delivery is asynchronous: publish returns before any handler runs.
 */
export class InMemoryBus implements MessageBus {
  private readonly partitionCount: number;
  private readonly retry: RetryPolicy;
  private readonly metrics: BusMetrics = busMetrics();
  private readonly logger = new Logger('InMemoryBus');
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly groups: GroupHandle[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private sequence = 0;
  private state: State = 'created';
  private abort = new AbortController();
  private stopping: Promise<void> | undefined;
  /** What the consumer groups may use of the bus, and nothing more. */
  private readonly host: GroupHost = {
    isRunning: () => this.isRunning(),
    partitionsOf: (topicName) => this.partitionsOf(topicName),
    consumerContext: () => this.consumerContext(),
    appendDeadLetters: (topicName, letters) => this.appendDeadLetters(topicName, letters),
    settleIdleWaiters: () => this.settleIdleWaiters(),
  };

  constructor(options: InMemoryBusOptions = {}) {
    this.partitionCount = options.partitions ?? 4;
    if (!Number.isInteger(this.partitionCount) || this.partitionCount < 1) {
      throw new Error(`partitions must be a positive integer, got ${this.partitionCount}`);
    }
    this.retry = resolveRetryPolicy(options.retry);
  }

  async publish<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): Promise<void> {
    this.assertAcceptingMessages();
    await publishValidated(topic, messages, this.metrics, async (records) =>
      this.append(topic.name, records),
    );
  }

  async publishRaw(topicName: string, records: readonly RawOutgoingRecord[]): Promise<void> {
    this.assertAcceptingMessages();
    if (records.length === 0) return;
    this.append(topicName, records);
    this.metrics.published.inc({ topic: topicName }, records.length);
  }

  subscribe<T>(subscription: Subscription<T>): void {
    if (this.state !== 'created' && this.state !== 'stopped') {
      throw new Error(`subscribe ${subscriptionKey(subscription)} before start()`);
    }
    validateSubscription(subscription, this.groups);
    this.groups.push(new InMemoryGroup(subscription, this.host));
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopping') await this.stopping;
    this.abort = new AbortController();
    this.stopping = undefined;
    this.state = 'running';
    for (const group of this.groups) group.wake();
    this.settleIdleWaiters();
  }

  async stop(): Promise<void> {
    if (this.state === 'created' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.abort.abort();
      await Promise.all(this.groups.map((group) => group.drain()));
      this.state = 'stopped';
      // Nothing more will happen: whoever waits for idleness must not wait forever.
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    })();
    await this.stopping;
  }

  async isReady(): Promise<boolean> {
    return this.state === 'running';
  }

  /**
   * Resolves once every subscribed group has handled (or dead-lettered) everything published so
   * far, including what handlers published meanwhile. For specs and the sandbox clock.
   */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Everything published to a topic (DLQs included), in publication order, values parsed from JSON where they are JSON. */
  messagesOn(topicName: string): IncomingMessage<unknown>[] {
    const partitions = this.logs.get(topicName) ?? [];
    return partitions
      .flatMap((records, partition) => records.map((record, offset) => ({ record, partition, offset })))
      .sort((a, b) => a.record.sequence - b.record.sequence)
      .map(({ record, partition, offset }) => ({
        topic: topicName,
        partition,
        offset: String(offset),
        key: record.key,
        value: parseJsonOrKeep(record.value),
        headers: { ...record.headers },
        timestamp: record.timestamp,
      }));
  }

  private isRunning(): boolean {
    return this.state === 'running';
  }

  private partitionsOf(topicName: string): StoredRecord[][] {
    let partitions = this.logs.get(topicName);
    if (!partitions) {
      partitions = Array.from({ length: this.partitionCount }, () => []);
      this.logs.set(topicName, partitions);
    }
    return partitions;
  }

  private consumerContext(): ConsumerContext {
    const signal = this.abort.signal;
    return {
      retry: this.retry,
      metrics: this.metrics,
      logger: this.logger,
      signal,
      running: () => !signal.aborted && this.state === 'running',
    };
  }

  private appendDeadLetters(topicName: string, letters: readonly DeadLetter[]): void {
    this.append(
      topicName,
      letters.map((letter) => ({ ...letter, value: letter.value === null ? '' : letter.value.toString() })),
    );
  }

  /** Called whenever something may have made the bus idle: a worker finished, the bus started. */
  private settleIdleWaiters(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private append(
    topicName: string,
    records: readonly { key: string; value: string; headers?: Record<string, string> }[],
  ): void {
    const partitions = this.partitionsOf(topicName);
    const timestamp = String(Date.now());
    for (const record of records) {
      partitions[partitionOf(record.key, this.partitionCount)]?.push({
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
        timestamp,
        sequence: this.sequence++,
      });
    }
    // Deferred: the publisher's call returns before any handler runs, as with a real broker.
    setImmediate(() => {
      for (const group of this.groups) if (group.topicName === topicName) group.wake();
    });
  }

  private isIdle(): boolean {
    return this.groups.every((group) => group.isCaughtUp());
  }

  private assertAcceptingMessages(): void {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw AppError.unavailable('the message bus is stopped');
  }
}

interface ConsumerContext {
  retry: RetryPolicy;
  metrics: BusMetrics;
  logger: Logger;
  signal: AbortSignal;
  running: () => boolean;
}

interface GroupHost {
  isRunning(): boolean;
  partitionsOf(topicName: string): StoredRecord[][];
  consumerContext(): ConsumerContext;
  appendDeadLetters(topicName: string, letters: readonly DeadLetter[]): void;
  settleIdleWaiters(): void;
}

interface GroupHandle {
  readonly topicName: string;
  readonly groupId: string;
  wake(): void;
  isCaughtUp(): boolean;
  drain(): Promise<void>;
}

/** One subscription: a consumer group's offsets on one topic and a worker per busy partition. */
class InMemoryGroup<T> implements GroupHandle {
  readonly topicName: string;
  readonly groupId: string;
  private readonly committed: number[] = [];
  private readonly workers = new Map<number, Promise<void>>();

  constructor(
    private readonly subscription: Subscription<T>,
    private readonly bus: GroupHost,
  ) {
    this.topicName = subscription.topic.name;
    this.groupId = subscription.groupId;
  }

  wake(): void {
    if (!this.bus.isRunning()) return;
    const partitions = this.bus.partitionsOf(this.topicName);
    partitions.forEach((records, partition) => {
      if (!this.workers.has(partition) && (this.committed[partition] ?? 0) < records.length) {
        const worker = this.consume(partition).finally(() => {
          this.workers.delete(partition);
          this.bus.settleIdleWaiters();
        });
        this.workers.set(partition, worker);
      }
    });
  }

  isCaughtUp(): boolean {
    if (this.workers.size > 0) return false;
    return this.bus
      .partitionsOf(this.topicName)
      .every((records, partition) => (this.committed[partition] ?? 0) >= records.length);
  }

  async drain(): Promise<void> {
    await Promise.all(this.workers.values());
  }

  private async consume(partition: number): Promise<void> {
    const records = this.bus.partitionsOf(this.topicName)[partition] ?? [];
    const { retry, metrics, logger, signal, running } = this.bus.consumerContext();
    const consumer: PartitionConsumer<T> = {
      topic: this.subscription.topic,
      groupId: this.subscription.groupId,
      handler: this.subscription.handler,
      retry,
      metrics,
      logger,
      signal,
      isActive: running,
      heartbeat: async () => undefined,
      sendToDlq: async (letters) => this.bus.appendDeadLetters(this.subscription.topic.dlq, letters),
    };
    const maxBatchSize = this.subscription.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;

    while (running()) {
      const from = this.committed[partition] ?? 0;
      if (from >= records.length) return;
      const chunk: ConsumedRecord[] = records.slice(from, from + maxBatchSize).map((record, index) => ({
        topic: this.topicName,
        partition,
        offset: String(from + index),
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
        timestamp: record.timestamp,
      }));
      try {
        if ((await processChunk(chunk, consumer)) === 'interrupted') return;
        this.committed[partition] = from + chunk.length;
      } catch (error) {
        // Not a handler failure (the policy handles those) but a fault of the bus itself: like a
        // crashed Kafka consumer, start over from the last commit after a pause.
        logger.error(
          `${this.topicName} [${this.subscription.groupId}] partition ${partition}: ${describeError(error)}`,
        );
        await sleepUnlessAborted(retry.maxBackoffMs, signal);
      }
    }
  }
}

/** FNV-1a: stable across runs and processes, so a key always maps to the same partition. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

function parseJsonOrKeep(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
