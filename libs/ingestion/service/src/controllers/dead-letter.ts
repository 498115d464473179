import type { IncomingMessage, MessageBus, RawOutgoingRecord } from '@mmp/bus';
import { Headers, type RetailEventV1 } from '@mmp/contracts';
import type { IngestOutcome } from '../usecases/ingest-events/ingest-events.usecase';

/** The ingestion consumer group: `retail.events.v1` and every program source. */
export const INGESTION_GROUP = 'ingestion';

/** A record ingestion refused, for `<topic>.dlq`: its value and headers, the reason and where it came from. */
export function deadLetterOf(
  message: IncomingMessage<unknown>,
  value: string | Buffer,
  reason: string,
): RawOutgoingRecord & { headers: Record<string, string> } {
  return {
    key: message.key,
    value,
    headers: {
      ...message.headers,
      [Headers.dlqReason]: reason,
      [Headers.dlqSourceTopic]: message.topic,
      [Headers.dlqSourcePartition]: String(message.partition),
      [Headers.dlqSourceOffset]: message.offset,
      [Headers.dlqConsumerGroup]: INGESTION_GROUP,
    },
  };
}

/**
 * Letters for the ingested records whose event the ingest use case refused (a foreign currency,
 * an erased customer): one per eventId, since a record repeated in the batch was counted as a
 * duplicate.
 */
export function refusedLetters<R extends { message: IncomingMessage<unknown>; event: RetailEventV1 }>(
  ingested: readonly R[],
  refusals: IngestOutcome['rejected'],
  valueOf: (record: R) => string | Buffer,
): ReturnType<typeof deadLetterOf>[] {
  const reasons = new Map(refusals.map((r) => [r.eventId, `${r.path}: ${r.message}`]));
  return ingested.flatMap((record) => {
    const reason = reasons.get(record.event.eventId);
    if (reason === undefined) return [];
    reasons.delete(record.event.eventId);
    return [deadLetterOf(record.message, valueOf(record), reason)];
  });
}

/** Sends the letters to `dlq` and logs each, naming the offset and the reason. */
export async function sendDeadLetters(
  bus: MessageBus,
  logger: { warn(message: string): void },
  dlq: string,
  letters: readonly ReturnType<typeof deadLetterOf>[],
): Promise<void> {
  if (letters.length === 0) return;
  await bus.publishRaw(dlq, letters);
  for (const letter of letters) {
    logger.warn(
      `${letter.headers[Headers.dlqSourceTopic]} offset ${letter.headers[Headers.dlqSourceOffset]} sent to ${dlq}: ${letter.headers[Headers.dlqReason]}`,
    );
  }
}
