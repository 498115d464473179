import type { z } from 'zod';

/**
 * A Kafka topic's contract: its name, the schema every message on it satisfies, and where its
 * poison messages go. Producers validate with `schema` before publishing and consumers validate
 * with the same object after reading: this file's exports are the single source of truth.
 *
 * Topic names are public interface (SPEC section 2): do not change one without a migration plan.
 */
export interface Topic<T> {
  readonly name: string;
  /** Where messages that cannot be processed go, with the reason in headers. */
  readonly dlq: string;
  /** The version carried by every message (`schemaVersion` in the payload, `schema-version` header). */
  readonly schemaVersion: number;
  readonly schema: z.ZodType<T>;
  readonly description: string;
  /**
   * `json` (the platform's own topics): values are JSON, parsed before `schema` checks them.
   * `bytes` (a retailer's Avro source): `schema` gets the value's bytes as a Buffer.
   */
  readonly encoding: 'json' | 'bytes';
}

export function defineTopic<T>(topic: {
  name: string;
  dlq?: string;
  schemaVersion: number;
  schema: z.ZodType<T>;
  description: string;
  encoding?: 'json' | 'bytes';
}): Topic<T> {
  return { ...topic, dlq: topic.dlq ?? `${topic.name}.dlq`, encoding: topic.encoding ?? 'json' };
}

/** Kafka header names the platform sets on every message. */
export const Headers = {
  schemaVersion: 'schema-version',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  contentType: 'content-type',
  /** On DLQ messages: why the message could not be processed, and where it came from. */
  dlqReason: 'dlq-reason',
  dlqSourceTopic: 'dlq-source-topic',
  dlqSourcePartition: 'dlq-source-partition',
  dlqSourceOffset: 'dlq-source-offset',
  dlqConsumerGroup: 'dlq-consumer-group',
  /** On dead letters of exhausted retries (delivery): provider calls made, and the provider's last answer. */
  dlqAttempts: 'dlq-attempts',
  dlqLastError: 'dlq-last-error',
} as const;
