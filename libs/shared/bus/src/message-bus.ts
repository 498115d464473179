import type { Topic } from '@mmp/contracts';

/** A message as a handler receives it: validated against its topic's schema. */
export interface IncomingMessage<T> {
  topic: string;
  partition: number;
  /** The position in the partition, a decimal string as Kafka reports it. */
  offset: string;
  key: string;
  value: T;
  headers: Record<string, string>;
  /** Milliseconds since the epoch when the message was produced, a decimal string. */
  timestamp: string;
}

export interface OutgoingMessage<T> {
  /** The customer id: messages with one key keep their order. */
  key: string;
  value: T;
  headers?: Record<string, string>;
}

/** Handles messages of one partition, in offset order; throwing hands the batch to the failure policy. */
export type BatchHandler<T> = (batch: readonly IncomingMessage<T>[]) => Promise<void>;

export interface Subscription<T> {
  topic: Topic<T>;
  /** Every group receives every message; within a group each message goes to one consumer. */
  groupId: string;
  handler: BatchHandler<T>;
  /** At most this many messages per handler call (500 unless told). */
  maxBatchSize?: number;
}

export interface RetryPolicy {
  /** How many times a batch (then each of its messages) is tried before it goes to the DLQ. */
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * The one port between services and the broker. Both adapters (Kafka and in-memory) keep the
 * same contract:
 * - publish validates every message first and publishes all or nothing, in one broker call;
 * - a handler sees only valid messages; invalid ones go to the topic's DLQ with the reason;
 * - a failing batch is retried, then retried message by message, so only poison messages go
 *   to the DLQ and a partition never stalls on them; retriable errors (infrastructure down)
 *   are retried until they succeed and never dead-lettered;
 * - offsets are committed only after the handler succeeded (or the message was dead-lettered),
 *   so delivery is at least once.
 */
export interface MessageBus {
  publish<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): Promise<void>;
  /** Registers a handler; only before start(). */
  subscribe<T>(subscription: Subscription<T>): void;
  /** Connects and starts every subscription. After stop(), starting again resumes from the committed offsets. */
  start(): Promise<void>;
  /** Stops consuming (a handler call in progress finishes, nothing more is committed) and disconnects; idempotent. */
  stop(): Promise<void>;
  isReady(): Promise<boolean>;
  /**
   * Every valid message on a topic as of the call, from the earliest one retained, in offset
   * order per partition (invalid ones are logged and left out). Reads and moves no group's
   * offsets, and works before start(). For small internal topics a process needs whole before
   * it does anything else: the sandbox clock's moves.
   */
  readAll<T>(topic: Topic<T>): Promise<IncomingMessage<T>[]>;
  /** Publishes records as they are, unvalidated: for DLQ forwarding and for tests that inject malformed input. */
  publishRaw(topicName: string, records: readonly RawOutgoingRecord[]): Promise<void>;
  /**
   * How many messages each subscribed group has yet to handle, per partition: the end of the
   * partition's log less the group's committed offset. Read when /metrics is scraped.
   */
  consumerLag(): Promise<ConsumerLag[]>;
}

export interface ConsumerLag {
  topic: string;
  partition: number;
  /** The subscription's group id (on Kafka the group is `<group>.<topic>`). */
  group: string;
  lag: number;
}

export interface RawOutgoingRecord {
  key: string;
  /** Bytes (a dead letter of an Avro source) go to Kafka as they are; the in-process buses keep text. */
  value: string | Buffer;
  headers?: Record<string, string>;
}

/** The injection token under which Nest modules receive the process's MessageBus. */
export const MESSAGE_BUS = Symbol('MessageBus');
