import { setTimeout as sleep } from 'node:timers/promises';
import type { Topic } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { Logger } from '@nestjs/common';
import { addConsumerLagSource, busMetrics, type BusMetrics } from './bus-metrics';
import { partitionConsumerOf, processChunk, type ConsumerContext } from './consume-policy';
import type {
  ConsumerLag,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
  RawOutgoingRecord,
  RetryPolicy,
  Subscription,
} from './message-bus';
import { publishValidated } from './publish-policy';
import { asTextRecord, decodeAll, type ConsumedRecord, type DeadLetter } from './record-codec';
import { resolveRetryPolicy } from './retry-policy';
import { DEFAULT_MAX_BATCH_SIZE, subscriptionKey, validateSubscription } from './subscription';

export interface InMemoryBusOptions {
  /** Partitions per topic (4 unless told); a key always lands on the same one. */
  partitions?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * How many already-consumed records to keep per topic (the most recent ones, for messagesOn);
   * DEFAULT_RETAIN_CONSUMED unless told, `Infinity` keeps everything. A record is consumed once
   * every group subscribed to its topic has committed past it (at once when none is subscribed);
   * records some group has yet to consume are always kept.
   */
  retainConsumed?: number;
}

/** Per topic: enough recent history for specs and for looking around in `npm start`, bounded. */
export const DEFAULT_RETAIN_CONSUMED = 10_000;

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
 * One partition's log. Offsets are positions since the partition was created and never change:
 * dropping consumed records from the front only moves `startOffset` up.
 */
class PartitionLog {
  /** records[i] has offset baseOffset + i; those before `head` are dropped, awaiting compaction. */
  private records: StoredRecord[] = [];
  private baseOffset = 0;
  private head = 0;

  /** Offset of the first retained record (= endOffset when none is retained). */
  get startOffset(): number {
    return this.baseOffset + this.head;
  }

  /** Offset the next record will get. */
  get endOffset(): number {
    return this.baseOffset + this.records.length;
  }

  append(record: StoredRecord): void {
    this.records.push(record);
  }

  /** The record at an offset, if retained. */
  at(offset: number): StoredRecord | undefined {
    return offset < this.startOffset ? undefined : this.records[offset - this.baseOffset];
  }

  /** Retained records from `from` (clamped to startOffset) up to `to`, exclusive. */
  slice(from: number, to: number): StoredRecord[] {
    const start = Math.max(from, this.startOffset) - this.baseOffset;
    return this.records.slice(start, Math.max(start, to - this.baseOffset));
  }

  retained(): { offset: number; record: StoredRecord }[] {
    return this.slice(this.startOffset, this.endOffset).map((record, index) => ({
      offset: this.startOffset + index,
      record,
    }));
  }

  /** Drops every record before `offset`; compacts once the dropped ones outnumber the kept ones. */
  dropBefore(offset: number): void {
    this.head = Math.min(Math.max(this.head, offset - this.baseOffset), this.records.length);
    if (this.head > 0 && this.head >= this.records.length - this.head) {
      this.records = this.records.slice(this.head);
      this.baseOffset += this.head;
      this.head = 0;
    }
  }
}

/**
 * The in-process bus for `npm start` without Kafka and for specs: the same contract as KafkaBus
 * (keyed partitions, per-group offsets, batches, retries, DLQ, at-least-once), in memory.
 * Delivery is asynchronous: publish returns before any handler runs.
 */
export class InMemoryBus implements MessageBus {
  private readonly partitionCount: number;
  private readonly retainConsumed: number;
  private readonly retry: RetryPolicy;
  private readonly metrics: BusMetrics = busMetrics();
  private readonly logger = new Logger('InMemoryBus');
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly groups: GroupHandle[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private sequence = 0;
  private state: State = 'created';
  private abort = new AbortController();
  private stopping: Promise<void> | undefined;
  private removeLagSource: (() => void) | undefined;
  /** What the consumer groups may use of the bus, and nothing more. */
  private readonly host: GroupHost = {
    isRunning: () => this.isRunning(),
    partitionsOf: (topicName) => this.partitionsOf(topicName),
    consumerContext: () => this.consumerContext(),
    appendDeadLetters: (topicName, letters) => this.appendDeadLetters(topicName, letters),
    settleIdleWaiters: () => this.settleIdleWaiters(),
    trimConsumed: (topicName) => this.trimConsumed(topicName),
  };

  constructor(options: InMemoryBusOptions = {}) {
    this.partitionCount = options.partitions ?? 4;
    if (!Number.isInteger(this.partitionCount) || this.partitionCount < 1) {
      throw new Error(`partitions must be a positive integer, got ${this.partitionCount}`);
    }
    this.retainConsumed = options.retainConsumed ?? DEFAULT_RETAIN_CONSUMED;
    if (
      !(this.retainConsumed === Infinity || Number.isInteger(this.retainConsumed)) ||
      this.retainConsumed < 0
    ) {
      throw new Error(
        `retainConsumed must be a non-negative integer or Infinity, got ${this.retainConsumed}`,
      );
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
    this.append(topicName, records.map(asTextRecord));
    this.metrics.published.inc({ topic: topicName }, records.length);
  }

  async readAll<T>(topic: Topic<T>): Promise<IncomingMessage<T>[]> {
    const partitions = this.logs.get(topic.name) ?? [];
    return decodeAll(
      topic,
      partitions.flatMap((log, partition) =>
        log.retained().map(({ record, offset }) => ({
          topic: topic.name,
          partition,
          offset: String(offset),
          key: record.key,
          value: record.value,
          headers: { ...record.headers },
          timestamp: record.timestamp,
        })),
      ),
      this.logger,
    );
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
    this.removeLagSource ??= addConsumerLagSource(this);
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
      this.removeLagSource?.();
      this.removeLagSource = undefined;
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

  async consumerLag(): Promise<ConsumerLag[]> {
    return this.groups.flatMap((group) =>
      this.partitionsOf(group.topicName).map((log, partition) => ({
        topic: group.topicName,
        partition,
        group: group.groupId,
        lag: Math.max(0, log.endOffset - Math.max(group.committedOffset(partition), log.startOffset)),
      })),
    );
  }

  /**
   * Resolves once every subscribed group has handled (or dead-lettered) everything published so
   * far, including what handlers published meanwhile. For specs and the sandbox clock.
   */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * What the bus retains of a topic (DLQs included), in publication order, values parsed from JSON
   * where they are JSON: everything not yet consumed by every subscribed group, plus the most
   * recent `retainConsumed` consumed records (see InMemoryBusOptions).
   */
  messagesOn(topicName: string): IncomingMessage<unknown>[] {
    const partitions = this.logs.get(topicName) ?? [];
    return partitions
      .flatMap((log, partition) =>
        log.retained().map(({ record, offset }) => ({ record, partition, offset })),
      )
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

  private partitionsOf(topicName: string): PartitionLog[] {
    let partitions = this.logs.get(topicName);
    if (!partitions) {
      partitions = Array.from({ length: this.partitionCount }, () => new PartitionLog());
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
      partitions[partitionOf(record.key, this.partitionCount)]?.append({
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
        timestamp,
        sequence: this.sequence++,
      });
    }
    // Only a topic nobody consumes has more consumed records now; the others trim on commit.
    if (!this.groups.some((group) => group.topicName === topicName)) this.trimConsumed(topicName);
    // Deferred: the publisher's call returns before any handler runs, as with a real broker.
    setImmediate(() => {
      for (const group of this.groups) if (group.topicName === topicName) group.wake();
    });
  }

  /**
   * Drops the oldest consumed records of a topic beyond `retainConsumed`, oldest first in
   * publication order across partitions. Consumed: below every subscribed group's commit on that
   * partition, or anything when no group is subscribed. Each record is dropped at most once, so
   * the cost is amortised over publication.
   */
  private trimConsumed(topicName: string): void {
    if (this.retainConsumed === Infinity) return;
    const partitions = this.logs.get(topicName);
    if (!partitions) return;
    const groups = this.groups.filter((group) => group.topicName === topicName);
    const consumedEnd = partitions.map((log, partition) =>
      Math.max(
        log.startOffset,
        groups.reduce((end, group) => Math.min(end, group.committedOffset(partition)), log.endOffset),
      ),
    );
    const consumed = partitions.reduce(
      (sum, log, partition) => sum + (consumedEnd[partition] ?? 0) - log.startOffset,
      0,
    );
    let excess = consumed - this.retainConsumed;
    if (excess <= 0) return;
    // Merge the partitions' consumed prefixes by sequence and cut the oldest `excess` of them.
    const cut = partitions.map((log) => log.startOffset);
    while (excess > 0) {
      let oldest = -1;
      let oldestSequence = Infinity;
      partitions.forEach((log, partition) => {
        const offset = cut[partition] ?? 0;
        if (offset >= (consumedEnd[partition] ?? 0)) return;
        const sequence = log.at(offset)?.sequence ?? Infinity;
        if (sequence < oldestSequence) {
          oldest = partition;
          oldestSequence = sequence;
        }
      });
      if (oldest < 0) break;
      cut[oldest] = (cut[oldest] ?? 0) + 1;
      excess -= 1;
    }
    partitions.forEach((log, partition) => log.dropBefore(cut[partition] ?? 0));
  }

  private isIdle(): boolean {
    return this.groups.every((group) => group.isCaughtUp());
  }

  private assertAcceptingMessages(): void {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw AppError.unavailable('the message bus is stopped');
  }
}

interface GroupHost {
  isRunning(): boolean;
  partitionsOf(topicName: string): PartitionLog[];
  consumerContext(): ConsumerContext;
  appendDeadLetters(topicName: string, letters: readonly DeadLetter[]): void;
  settleIdleWaiters(): void;
  /** A group committed on the topic: consumed records may be dropped. */
  trimConsumed(topicName: string): void;
}

interface GroupHandle {
  readonly topicName: string;
  readonly groupId: string;
  /** The offset this group will consume next on a partition (0 before its first commit). */
  committedOffset(partition: number): number;
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

  committedOffset(partition: number): number {
    return this.committed[partition] ?? 0;
  }

  wake(): void {
    if (!this.bus.isRunning()) return;
    const partitions = this.bus.partitionsOf(this.topicName);
    partitions.forEach((log, partition) => {
      if (!this.workers.has(partition) && this.committedOffset(partition) < log.endOffset) {
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
      .every((log, partition) => this.committedOffset(partition) >= log.endOffset);
  }

  async drain(): Promise<void> {
    await Promise.all(this.workers.values());
  }

  private async consume(partition: number): Promise<void> {
    const log = this.bus.partitionsOf(this.topicName)[partition] ?? new PartitionLog();
    const context = this.bus.consumerContext();
    const { retry, logger, signal, running } = context;
    const consumer = partitionConsumerOf(this.subscription, context, running, async (letters) =>
      this.bus.appendDeadLetters(this.subscription.topic.dlq, letters),
    );
    const maxBatchSize = this.subscription.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;

    while (running()) {
      // Like Kafka's earliest reset: a group that subscribed after records were dropped starts
      // from the oldest one retained (never the case for a group subscribed when they were published).
      const from = Math.max(this.committedOffset(partition), log.startOffset);
      if (from >= log.endOffset) return;
      const chunk: ConsumedRecord[] = log.slice(from, from + maxBatchSize).map((record, index) => ({
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
        this.bus.trimConsumed(this.topicName);
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
