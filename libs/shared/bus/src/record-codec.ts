import { Headers, summarizeIssues, validate, type Topic, type ValidationResult } from '@mmp/contracts';
import { AppError, type ErrorDetail } from '@mmp/errors';
import { injectTraceContext } from '@mmp/telemetry';
import type { IncomingMessage, OutgoingMessage, RawOutgoingRecord } from './message-bus';

/** A record ready for the broker: what both adapters send. */
export interface EncodedRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** A record as read from a partition, before validation. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  /** The bytes as produced; dead letters carry them unchanged. */
  value: Buffer | string | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface DeadLetter {
  key: string;
  value: Buffer | string | null;
  headers: Record<string, string>;
}

export type DecodedRecord<T> = { ok: true; message: IncomingMessage<T> } | { ok: false; reason: string };

/**
 * Validates every message against the topic's schema and encodes them all, or throws a
 * `validation_failed` AppError naming each bad message's index and field path: a publish
 * call is all or nothing. Must run inside the span whose context the messages should carry.
 */
export function encodeMessages<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): EncodedRecord[] {
  const problems: ErrorDetail[] = [];
  messages.forEach((message, index) => {
    const result = validate(topic.schema, message.value);
    if (!result.ok) {
      for (const issue of result.issues) {
        problems.push({
          path: issue.path ? `messages[${index}].${issue.path}` : `messages[${index}]`,
          message: issue.message,
        });
      }
    }
  });
  if (problems.length > 0) {
    throw AppError.validation(
      `cannot publish to ${topic.name}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  }

  const traceHeaders = injectTraceContext({});
  return messages.map((message) => ({
    key: message.key,
    // The caller's value, not the schema's output: consumers validate exactly what was checked here.
    value: JSON.stringify(message.value),
    headers: {
      ...traceHeaders,
      ...message.headers,
      [Headers.schemaVersion]: String(topic.schemaVersion),
      [Headers.contentType]: 'application/json',
    },
  }));
}

function parseValue(topic: Topic<unknown>, value: Buffer | string | null): DecodedValue {
  if (topic.encoding === 'bytes')
    return { ok: true, value: Buffer.isBuffer(value) ? value : Buffer.from(value ?? '', 'utf8') };
  try {
    return { ok: true, value: JSON.parse(value === null ? '' : value.toString()) };
  } catch (error) {
    return {
      ok: false,
      reason: `value is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

type DecodedValue = { ok: true; value: unknown } | { ok: false; reason: string };

export function decodeRecord<T>(topic: Topic<T>, record: ConsumedRecord): DecodedRecord<T> {
  const decoded = parseValue(topic, record.value);
  if (!decoded.ok) return decoded;
  const parsed = decoded.value;
  let result: ValidationResult<T>;
  try {
    result = validate(topic.schema, parsed);
  } catch (error) {
    // A refinement that throws is the schema's fault, but it must not stall the partition.
    return {
      ok: false,
      reason: `schema validation threw: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (!result.ok) return { ok: false, reason: summarizeIssues(result.issues) };
  return {
    ok: true,
    message: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      value: result.value,
      headers: record.headers,
      timestamp: record.timestamp,
    },
  };
}

/** Decodes records read outside a subscription (MessageBus.readAll): invalid ones are logged and left out. */
export function decodeAll<T>(
  topic: Topic<T>,
  records: readonly ConsumedRecord[],
  logger: { warn(message: string): void },
): IncomingMessage<T>[] {
  return records.flatMap((record) => {
    const decoded = decodeRecord(topic, record);
    if (decoded.ok) return [decoded.message];
    logger.warn(
      `${topic.name} partition ${record.partition} offset ${record.offset} left out: ${decoded.reason}`,
    );
    return [];
  });
}

/** Header values are bounded: a reason is for people and dashboards, not a dump. */
const MAX_REASON_LENGTH = 2000;

export function toDeadLetter(record: ConsumedRecord, groupId: string, reason: string): DeadLetter {
  return {
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [Headers.dlqReason]:
        reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}...` : reason,
      [Headers.dlqSourceTopic]: record.topic,
      [Headers.dlqSourcePartition]: String(record.partition),
      [Headers.dlqSourceOffset]: record.offset,
      [Headers.dlqConsumerGroup]: groupId,
    },
  };
}

/** A raw record for a bus that keeps text (in-memory, Postgres): bytes become UTF-8 text. */
export function asTextRecord(record: RawOutgoingRecord): RawOutgoingRecord & { value: string } {
  return {
    ...record,
    value: typeof record.value === 'string' ? record.value : record.value.toString('utf8'),
  };
}
