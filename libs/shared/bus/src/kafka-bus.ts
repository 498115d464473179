import { randomUUID } from 'node:crypto';
import type { Topic } from '@mmp/contracts';
import { AppError, describeError } from '@mmp/errors';
import { Logger } from '@nestjs/common';
import {
  Kafka,
  KafkaJSBrokerNotFound,
  KafkaJSProtocolError,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Message,
  type Producer,
} from 'kafkajs';
import { addConsumerLagSource, busMetrics, type BusMetrics } from './bus-metrics';
import { partitionConsumerOf, processChunk } from './consume-policy';
import { FetchPipeline, type HandledOffset } from './fetch-pipeline';
import {
  chooseIdempotence,
  producerConfig,
  type ClusterDescription,
  type IdempotentProducerSetting,
} from './kafka-idempotence';
import {
  describeOffsetReset,
  OFFSET_OUT_OF_RANGE_ERROR,
  offsetResetMetrics,
  offsetResetOf,
  type OffsetResetMetrics,
} from './kafka-offset-resets';
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
import { decodeAll, type ConsumedRecord, type DeadLetter } from './record-codec';
import { resolveRetryPolicy } from './retry-policy';
import { DEFAULT_MAX_BATCH_SIZE, subscriptionKey, validateSubscription } from './subscription';

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** How many partitions of one subscription are handled at the same time (4 unless told). */
  partitionsConsumedConcurrently?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * How long the group waits for a silent consumer before giving its partitions to another (30 s
   * unless told). kafkajs heartbeats from its fetch loop, which goes on while handlers run (see
   * FetchPipeline). The librdkafka mock also holds a group this long after a member leaves, so
   * specs that restart consumers lower it.
   */
  sessionTimeoutMs?: number;
  /**
   * The longest an empty fetch waits for data (default 100 ms). A real broker answers as soon as
   * data arrives, so this only bounds idle polling; librdkafka's mock cluster always waits the
   * whole time, which made it a floor on every hop's latency.
   */
  maxWaitTimeMs?: number;
  /**
   * Whether the producer is idempotent (KAFKA_IDEMPOTENT_PRODUCER; `auto` unless told): on, so a
   * retried produce neither duplicates nor reorders a customer's messages, except with `auto` on
   * librdkafka's mock cluster, where kafkajs cannot start one. Logged when the producer connects.
   */
  idempotentProducer?: IdempotentProducerSetting;
}

/** How long readAll may take to reach the end it took (a group join included) before it fails. */
const READ_ALL_TIMEOUT_MS = 60_000;

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The MessageBus on Kafka (kafkajs): one shared producer (acks from all in-sync replicas,
 * idempotent unless the cluster cannot), one consumer per subscription whose fetches go on while
 * the handler works: a partition's batches fetched meanwhile are handled together in its next
 * call, and offsets are committed through what was handled (FetchPipeline). Avoids what the
 * stock Nest Kafka transport does (one message at a time, and a partition stalled by a throwing
 * handler: nestjs/nest #12703, #9455).
 */
export class KafkaBus implements MessageBus {
  private readonly kafka: Kafka;
  /** Answers readiness: no retries, so a probe says at once that the cluster is gone. */
  private readonly admin: Admin;
  /**
   * For lookups that must not fail on a blip (the cluster's description, offsets): the client's
   * retries. A new group's coordinator, for one, may be unavailable for a moment on a fresh
   * cluster. A new one per start: a kafkajs admin that asked a group coordinator cannot reconnect.
   */
  private lookupsConnection: Promise<Admin> | undefined;
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly sessionTimeoutMs: number;
  private readonly maxWaitTimeMs: number;
  private readonly metrics: BusMetrics = busMetrics();
  private readonly offsetResets: OffsetResetMetrics = offsetResetMetrics();
  private readonly logger = new Logger('KafkaBus');
  private readonly subscriptions: SubscriptionHandle[] = [];
  private removeLagSource: (() => void) | undefined;
  private state: State = 'created';
  private producerConnection: Promise<Producer> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private abort = new AbortController();
  /** What the subscriptions may use of the bus, and nothing more. */
  private readonly host: SubscriptionHost = {
    context: () => this.context(),
    sendDeadLetters: (dlqTopic, letters) => this.send(dlqTopic, letters),
    committedOffsets: (kafkaGroup, topicName) => this.committedOffsets(kafkaGroup, topicName),
    partitionLog: (topicName, partition) => this.partitionLog(topicName, partition),
  };

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaBus needs at least one broker');
    this.retry = resolveRetryPolicy(options.retry);
    this.concurrency = options.partitionsConsumedConcurrently ?? 4;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.maxWaitTimeMs = options.maxWaitTimeMs ?? 100;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.onKafkaLog(entry),
      // Connection attempts back off up to ~30 s in all before a start or a publish gives up.
      retry: KAFKA_RETRY,
    });
    this.admin = this.kafka.admin({ retry: { retries: 0 } });
  }

  async publish<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): Promise<void> {
    await publishValidated(topic, messages, this.metrics, (records) => this.send(topic.name, records));
  }

  async publishRaw(topicName: string, records: readonly RawOutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.send(topicName, records);
    this.metrics.published.inc({ topic: topicName }, records.length);
  }

  /**
   * Takes the partitions' end offsets first, then reads up to them with a consumer of a group
   * used once and never committed (kafkajs consumes only through a group).
   */
  async readAll<T>(topic: Topic<T>): Promise<IncomingMessage<T>[]> {
    const admin = this.kafka.admin();
    let ends: Map<number, number>;
    try {
      await admin.connect();
      // Before its first message the topic may not exist, and kafkajs's admin never creates one:
      // asking for its offsets would fail, after half a minute of retries.
      if (!(await admin.listTopics()).includes(topic.name)) return [];
      const offsets = await admin.fetchTopicOffsets(topic.name);
      ends = new Map(
        offsets
          .filter((partition) => Number(partition.high) > Number(partition.low))
          .map((partition) => [partition.partition, Number(partition.high)]),
      );
    } catch (error) {
      throw toAppError(`cannot read the end offsets of ${topic.name}`, error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (ends.size === 0) return [];
    const records: ConsumedRecord[] = [];
    const consumer = this.kafka.consumer({
      groupId: `${this.options.clientId}.read-all.${topic.name}.${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.maxWaitTimeMs,
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`not at the end after ${READ_ALL_TIMEOUT_MS} ms`)),
          READ_ALL_TIMEOUT_MS,
        );
        const pending = new Set(ends.keys());
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = ends.get(batch.partition) ?? 0;
              for (const message of batch.messages) {
                if (Number(message.offset) >= end) break;
                records.push(toConsumedRecord(batch.topic, batch.partition, message));
                if (Number(message.offset) === end - 1) pending.delete(batch.partition);
              }
              if (pending.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(String(error)));
          });
      });
    } catch (error) {
      throw toAppError(`cannot read ${topic.name} to its end`, error);
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
    records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
    return decodeAll(topic, records, this.logger);
  }

  subscribe<T>(subscription: Subscription<T>): void {
    if (this.state !== 'created' && this.state !== 'stopped') {
      throw new Error(`subscribe ${subscriptionKey(subscription)} before start()`);
    }
    validateSubscription(subscription, this.subscriptions);
    this.subscriptions.push(new KafkaSubscription(subscription, this.kafka, this.host));
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'starting') return this.starting;
    if (this.state === 'stopping') await this.stopping;
    this.state = 'starting';
    this.abort = new AbortController();
    this.stopping = undefined;
    this.starting = (async () => {
      try {
        await this.connectProducer();
        await this.admin.connect();
        const signal = this.abort.signal;
        await Promise.all(this.subscriptions.map((subscription) => subscription.start(signal)));
        this.state = 'running';
        this.removeLagSource ??= addConsumerLagSource(this);
      } catch (error) {
        await this.disconnectAll();
        this.state = 'stopped';
        // A setting the cluster cannot honour stays not retriable; anything else is an outage.
        const cause = error instanceof AppError ? error : AppError.unavailable(describeError(error));
        throw new AppError(
          cause.code,
          `cannot start the Kafka bus on ${this.options.brokers.join(',')}: ${cause.message}`,
          undefined,
          cause.retriable,
        );
      }
    })();
    return this.starting;
  }

  async stop(): Promise<void> {
    if (this.state === 'created' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'starting') await this.starting?.catch(() => undefined);
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.removeLagSource?.();
      this.removeLagSource = undefined;
      this.abort.abort();
      await this.disconnectAll();
      this.state = 'stopped';
    })();
    await this.stopping;
  }

  async isReady(): Promise<boolean> {
    if (this.state !== 'running') return false;
    if (this.subscriptions.some((subscription) => subscription.crashed)) return false;
    try {
      await this.admin.describeCluster();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The end of each subscribed topic's partitions (one request per topic) less what each Kafka
   * group committed (one request per group), as the broker knows them: every instance of a
   * service reports the same group's lag, whichever member holds the partition. A partition the
   * group never committed on counts from its earliest retained offset, where it will start.
   */
  async consumerLag(): Promise<ConsumerLag[]> {
    if (this.state !== 'running') return [];
    const admin = await this.lookupAdmin();
    const topicNames = [...new Set(this.subscriptions.map((subscription) => subscription.topicName))];
    const logs = new Map(
      await Promise.all(
        topicNames.map(async (name) => [name, await admin.fetchTopicOffsets(name).catch(() => [])] as const),
      ),
    );
    const lags = await Promise.all(
      this.subscriptions.map(async (subscription) => {
        const committed = await this.committedOffsets(subscription.kafkaGroupId, subscription.topicName);
        return (logs.get(subscription.topicName) ?? []).map((log) => {
          const from = committed.get(log.partition) ?? BigInt(log.low);
          const lag = BigInt(log.high) - (from > BigInt(log.low) ? from : BigInt(log.low));
          return {
            topic: subscription.topicName,
            partition: log.partition,
            group: subscription.groupId,
            lag: lag > 0n ? Number(lag) : 0,
          };
        });
      }),
    );
    return lags.flat();
  }

  private context(): SubscriptionContext {
    return {
      retry: this.retry,
      metrics: this.metrics,
      offsetResets: this.offsetResets,
      logger: this.logger,
      concurrency: this.concurrency,
      sessionTimeoutMs: this.sessionTimeoutMs,
      maxWaitTimeMs: this.maxWaitTimeMs,
    };
  }

  /** One produce call for all records; kafkajs groups them per broker. */
  private async send(
    topicName: string,
    records: readonly { key: string; value: Buffer | string | null; headers?: Record<string, string> }[],
  ): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped')
      throw AppError.unavailable('the message bus is stopped');
    const producer = await this.connectProducer();
    const messages: Message[] = records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
    }));
    try {
      await producer.send({ topic: topicName, acks: -1, messages });
    } catch (error) {
      throw toAppError(`cannot publish ${messages.length} message(s) to ${topicName}`, error);
    }
  }

  /** Connected on first use, so a service may publish before the bus starts consuming. */
  private async connectProducer(): Promise<Producer> {
    this.producerConnection ??= this.openProducer().catch((error: unknown) => {
      this.producerConnection = undefined;
      throw error;
    });
    return this.producerConnection;
  }

  private async openProducer(): Promise<Producer> {
    const brokers = this.options.brokers.join(',');
    const setting = this.options.idempotentProducer ?? 'auto';
    const cluster =
      setting === 'auto'
        ? await this.describeCluster().catch((error: unknown) => {
            throw toAppError(`cannot connect to Kafka brokers ${brokers}`, error);
          })
        : undefined;
    const idempotence = chooseIdempotence(setting, cluster);
    if (idempotence.idempotent) this.logger.log(idempotence.reason);
    else this.logger.warn(idempotence.reason);

    const producer = this.kafka.producer(producerConfig(idempotence.idempotent));
    try {
      await producer.connect();
    } catch (error) {
      // kafkajs connects, then asks for a producer id: failing that is the cluster refusing idempotence.
      if (idempotence.idempotent && isProducerIdRefusal(error)) {
        throw new AppError(
          'internal',
          `the idempotent Kafka producer cannot get a producer id from ${brokers}: ${describeError(error)}; ` +
            `a cluster that cannot give one (librdkafka's mock, a broker without IdempotentWrite) needs KAFKA_IDEMPOTENT_PRODUCER=false`,
          undefined,
          false,
        );
      }
      throw toAppError(`cannot connect to Kafka brokers ${brokers}`, error);
    }
    return producer;
  }

  private async lookupAdmin(): Promise<Admin> {
    this.lookupsConnection ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.lookupsConnection = undefined;
      throw error;
    });
    return this.lookupsConnection;
  }

  private async describeCluster(): Promise<ClusterDescription> {
    return (await this.lookupAdmin()).describeCluster();
  }

  private async committedOffsets(kafkaGroup: string, topicName: string): Promise<Map<number, bigint>> {
    const admin = await this.lookupAdmin();
    const [topic] = await admin.fetchOffsets({ groupId: kafkaGroup, topics: [topicName] });
    const committed = new Map<number, bigint>();
    // kafkajs answers -1 where nothing is committed, and a reset commits -2 (earliest) before any message.
    for (const { partition, offset } of topic?.partitions ?? []) {
      if (BigInt(offset) >= 0n) committed.set(partition, BigInt(offset));
    }
    return committed;
  }

  private async partitionLog(
    topicName: string,
    partition: number,
  ): Promise<{ earliest: bigint; latest: bigint } | undefined> {
    const offsets = await (await this.lookupAdmin()).fetchTopicOffsets(topicName);
    const log = offsets.find((entry) => entry.partition === partition);
    return log && { earliest: BigInt(log.low), latest: BigInt(log.high) };
  }

  /**
   * kafkajs's log, except its offset resets, which the subscription reports with what was lost
   * (the fetch answer that led to one is then only a debug line).
   */
  private onKafkaLog(entry: LogEntry): void {
    const reset = offsetResetOf(entry.log.message, entry.log);
    const subscription =
      reset &&
      this.subscriptions.find(
        (candidate) => candidate.kafkaGroupId === reset.groupId && candidate.topicName === reset.topic,
      );
    if (reset && subscription) subscription.reportOffsetReset(reset.partition);
    else if (isOffsetOutOfRangeAnswer(entry)) logKafkaEntry(this.logger, { ...entry, level: logLevel.DEBUG });
    else logKafkaEntry(this.logger, entry);
  }

  /** Consumers first (they may still dead-letter through the producer), then the producer. */
  private async disconnectAll(): Promise<void> {
    const results = await Promise.allSettled(this.subscriptions.map((subscription) => subscription.stop()));
    for (const result of results) {
      if (result.status === 'rejected')
        this.logger.warn(`consumer did not disconnect cleanly: ${describeError(result.reason)}`);
    }
    const producerConnection = this.producerConnection;
    this.producerConnection = undefined;
    const producer = await producerConnection?.catch(() => undefined);
    await producer
      ?.disconnect()
      .catch((error: unknown) => this.logger.warn(`producer: ${describeError(error)}`));
    const lookups = this.lookupsConnection;
    this.lookupsConnection = undefined;
    const lookupAdmin = await lookups?.catch(() => undefined);
    for (const admin of [this.admin, lookupAdmin]) {
      await admin?.disconnect().catch((error: unknown) => this.logger.warn(`admin: ${describeError(error)}`));
    }
  }
}

/** The client's retries: connection attempts back off up to ~30 s in all. */
const KAFKA_RETRY = { initialRetryTime: 250, maxRetryTime: 5000, retries: 8 };

interface SubscriptionContext {
  retry: RetryPolicy;
  metrics: BusMetrics;
  offsetResets: OffsetResetMetrics;
  logger: Logger;
  concurrency: number;
  sessionTimeoutMs: number;
  maxWaitTimeMs: number;
}

interface SubscriptionHost {
  context(): SubscriptionContext;
  sendDeadLetters(dlqTopic: string, letters: readonly DeadLetter[]): Promise<void>;
  /** What the Kafka group has committed, by partition (only partitions with a commit). */
  committedOffsets(kafkaGroup: string, topicName: string): Promise<Map<number, bigint>>;
  partitionLog(
    topicName: string,
    partition: number,
  ): Promise<{ earliest: bigint; latest: bigint } | undefined>;
}

interface SubscriptionHandle {
  readonly topicName: string;
  readonly groupId: string;
  readonly kafkaGroupId: string;
  readonly crashed: boolean;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** kafkajs found the committed offset of this partition out of range and reset it. */
  reportOffsetReset(partition: number): void;
}

/** The pause before a crashed consumer's replacement joins, doubled each time it fails again. */
const RESTART_FIRST_DELAY_MS = 1000;
const RESTART_MAX_DELAY_MS = 30_000;

/**
 * One subscription: its own kafkajs consumer. The Kafka group is named after the subscription's
 * group and topic because kafkajs's assigners give every member of a group the leader's topics:
 * two consumers sharing a group id but subscribed to different topics would be handed partitions
 * they never read. One group per (group, topic) keeps each topic's offsets independent and lets
 * a service use one group id for all its subscriptions.
 */
class KafkaSubscription<T> implements SubscriptionHandle {
  readonly topicName: string;
  readonly groupId: string;
  readonly kafkaGroupId: string;
  crashed = false;
  private consumer: Consumer | undefined;
  /**
   * The group's committed offsets as last known: read before consuming and after each
   * rebalance (another member may have committed), advanced at each commit of ours. kafkajs
   * commits the reset offset before anyone could read the old one, so this is where the start
   * of a lost range comes from.
   */
  private committed = new Map<number, bigint>();
  private committedRead: Promise<void> = Promise.resolve();
  /** Consumers started since the group was last joined, for the pause before the next one. */
  private failedStarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private pipeline: FetchPipeline | undefined;

  constructor(
    private readonly subscription: Subscription<T>,
    private readonly kafka: Kafka,
    private readonly bus: SubscriptionHost,
  ) {
    this.topicName = subscription.topic.name;
    this.groupId = subscription.groupId;
    this.kafkaGroupId = kafkaGroupId(subscription);
  }

  async start(signal: AbortSignal): Promise<void> {
    const { concurrency, logger, sessionTimeoutMs, maxWaitTimeMs } = this.bus.context();
    const consumer = this.kafka.consumer({
      groupId: this.kafkaGroupId,
      allowAutoTopicCreation: true,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
      maxWaitTimeInMs: maxWaitTimeMs,
    });
    this.consumer = consumer;
    this.crashed = false;
    const pipeline = this.pipelineFor(consumer, signal, concurrency);
    this.pipeline = pipeline;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart) return;
      this.crashed = true;
      logger.error(
        `${subscriptionKey(this.subscription)}: consumer crashed for good: ${describeError(event.payload.error)}`,
      );
      this.restartLater(consumer, signal);
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // kafkajs fetches again from the committed offsets: what was queued would be handled twice.
      pipeline.reset();
      this.failedStarts = 0;
      this.committedRead = this.readCommitted(logger);
    });
    await consumer.connect();
    this.committed = new Map();
    await this.readCommitted(logger);
    // A new group starts from the earliest offset: a service started after messages were produced still sees them.
    await consumer.subscribe({ topics: [this.topicName], fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      // The pipeline commits through what was handled; kafkajs's resolved offsets only say where to fetch.
      autoCommit: false,
      partitionsConsumedConcurrently: concurrency,
      eachBatch: (payload) => this.eachBatch(payload, pipeline),
    });
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    const pipeline = this.pipeline;
    this.consumer = undefined;
    this.pipeline = undefined;
    clearTimeout(this.restartTimer);
    // The running calls end (the bus's signal is aborted) and their commits go out before the consumer leaves.
    await pipeline?.close();
    await consumer?.disconnect();
  }

  /**
   * kafkajs gives up on a consumer after an error it does not retry (librdkafka's mock cluster
   * answers a member joining a live group INVALID_REQUEST now and then): a new consumer joins
   * the group again after a pause, from the last commit, instead of leaving the partitions
   * unread until someone restarts the process. Readiness is down meanwhile.
   */
  private restartLater(crashed: Consumer, signal: AbortSignal): void {
    if (this.consumer !== crashed || signal.aborted) return;
    const delayMs = Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** this.failedStarts);
    this.failedStarts += 1;
    this.bus
      .context()
      .logger.warn(`${subscriptionKey(this.subscription)}: starting a new consumer in ${delayMs} ms`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      void (async () => {
        if (this.consumer !== crashed || signal.aborted) return;
        await this.pipeline?.close();
        await crashed.disconnect().catch(() => undefined);
        if (this.consumer !== crashed || signal.aborted) return;
        try {
          await this.start(signal);
        } catch (error) {
          this.crashed = true;
          this.bus
            .context()
            .logger.error(
              `${subscriptionKey(this.subscription)}: the new consumer did not start: ${describeError(error)}`,
            );
          if (this.consumer) this.restartLater(this.consumer, signal);
        }
      })();
    }, delayMs);
    this.restartTimer.unref();
  }

  reportOffsetReset(partition: number): void {
    void this.describeReset(partition).then(({ lost, message }) => {
      const { logger, offsetResets } = this.bus.context();
      const labels = { topic: this.topicName, partition: String(partition), group: this.groupId };
      offsetResets.resets.inc(labels);
      if (lost > 0n) offsetResets.lost.inc(labels, Number(lost));
      logger.error(message);
    });
  }

  private async describeReset(partition: number): Promise<{ lost: bigint; message: string }> {
    await this.committedRead;
    const log = await this.bus.partitionLog(this.topicName, partition).catch(() => undefined);
    return describeOffsetReset({
      topic: this.topicName,
      partition,
      group: this.groupId,
      kafkaGroupId: this.kafkaGroupId,
      committed: this.committed.get(partition),
      log,
    });
  }

  /** Offsets only move forward here: a reset's -2 is dropped by committedOffsets, an older read loses to a later commit. */
  private async readCommitted(logger: Logger): Promise<void> {
    try {
      const read = await this.bus.committedOffsets(this.kafkaGroupId, this.topicName);
      for (const [partition, offset] of read) {
        if (offset > (this.committed.get(partition) ?? -1n)) this.committed.set(partition, offset);
      }
    } catch (error) {
      logger.warn(
        `${subscriptionKey(this.subscription)}: cannot read committed offsets: ${describeError(error)}`,
      );
    }
  }

  /** The consume policy behind a pipeline of this consumer's fetches: commits go through this consumer. */
  private pipelineFor(consumer: Consumer, signal: AbortSignal, concurrency: number): FetchPipeline {
    const { retry, metrics, logger } = this.bus.context();
    const maxBatchSize = this.subscription.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    return new FetchPipeline({
      concurrency,
      maxBatchSize,
      maxQueuedPerPartition: 2 * maxBatchSize,
      handle: (records, isCurrent) =>
        processChunk(
          records,
          partitionConsumerOf(
            this.subscription,
            { retry, metrics, logger, signal },
            // No heartbeat during retries: kafkajs heartbeats from its fetch loop, which goes on meanwhile.
            () => !signal.aborted && isCurrent(),
            (letters) => this.bus.sendDeadLetters(this.subscription.topic.dlq, letters),
          ),
        ),
      commit: async (offsets: readonly HandledOffset[]) => {
        await consumer.commitOffsets(
          offsets.map(({ partition, offset }) => ({
            topic: this.topicName,
            partition,
            offset: offset.toString(),
          })),
        );
        for (const { partition, offset } of offsets) {
          if (offset > (this.committed.get(partition) ?? -1n)) this.committed.set(partition, offset);
        }
      },
      onFailure: (what, error) =>
        logger.warn(
          what === 'commit'
            ? `${subscriptionKey(this.subscription)}: cannot commit handled offsets (they are read again after the next rebalance or restart): ${describeError(error)}`
            : `${subscriptionKey(this.subscription)}: a handler call threw past the consume policy: ${describeError(error)}`,
        ),
    });
  }

  /**
   * Hands the fetched batch to the pipeline and returns, so kafkajs fetches on while it is handled;
   * waits (heartbeating) only while the partition already has as much queued as the pipeline holds.
   */
  private async eachBatch(payload: EachBatchPayload, pipeline: FetchPipeline): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const last = batch.messages[batch.messages.length - 1];
    if (!last || !isRunning() || isStale()) return;
    pipeline.offer(
      batch.partition,
      batch.messages.map((message) => toConsumedRecord(batch.topic, batch.partition, message)),
    );
    resolveOffset(last.offset);
    while (!(await pipeline.waitForRoom(batch.partition, ROOM_HEARTBEAT_MS))) {
      if (!isRunning() || isStale()) return;
      try {
        await heartbeat();
      } catch {
        // The group is rebalancing: kafkajs rejoins once this fetch's batches return.
        return;
      }
    }
  }
}

/** How often a fetch waiting for the pipeline to take its batch keeps the group membership alive. */
const ROOM_HEARTBEAT_MS = 1000;

export function kafkaGroupId(subscription: { topic: { name: string }; groupId: string }): string {
  return `${subscription.groupId}.${subscription.topic.name}`;
}

function toConsumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? '',
    value: message.value,
    headers: decodeHeaders(message.headers),
    timestamp: message.timestamp,
  };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    // A repeated header keeps its last value, as Kafka clients conventionally read it.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) decoded[name] = last.toString();
  }
  return decoded;
}

/**
 * A broker that cannot take the messages now is retriable (a handler publishing follow-ups is
 * then retried, not dead-lettered); a protocol error about the messages themselves is not.
 */
function toAppError(context: string, error: unknown): AppError {
  if (error instanceof KafkaJSProtocolError && !error.retriable) {
    return new AppError('internal', `${context}: ${error.message}`, undefined, false);
  }
  return AppError.unavailable(`${context}: ${describeError(error)}`);
}

/** The connection's error line for a fetch answered OFFSET_OUT_OF_RANGE, before kafkajs resets the offset. */
function isOffsetOutOfRangeAnswer(entry: LogEntry): boolean {
  return entry.namespace === 'Connection' && entry.log.error === OFFSET_OUT_OF_RANGE_ERROR;
}

/** InitProducerId failing, once connected: no broker to ask (the mock) or a refusal (authorisation). */
function isProducerIdRefusal(error: unknown): boolean {
  return error instanceof KafkaJSBrokerNotFound || error instanceof KafkaJSProtocolError;
}

/**
 * kafkajs warns that bounded retries weaken an idempotent producer; they are bounded on purpose
 * (see producerConfig), and the start-up line says what the producer guarantees.
 */
const SILENCED_KAFKAJS_WARNINGS = new Set([
  'Limiting retries for the idempotent producer may invalidate EoS guarantees',
]);

function logKafkaEntry(logger: Logger, entry: LogEntry): void {
  const { message, timestamp: _timestamp, ...extra } = entry.log;
  if (SILENCED_KAFKAJS_WARNINGS.has(message)) return;
  const line = `${entry.namespace}: ${message}${Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : ''}`;
  switch (entry.level) {
    case logLevel.ERROR:
      logger.error(line);
      break;
    case logLevel.WARN:
      logger.warn(line);
      break;
    case logLevel.INFO:
    case logLevel.DEBUG:
    case logLevel.NOTHING:
      logger.debug(line);
      break;
  }
}
