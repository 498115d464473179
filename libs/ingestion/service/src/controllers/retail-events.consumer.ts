import { MESSAGE_BUS, OnMessages, type IncomingMessage, type MessageBus } from '@mmp/bus';
import { Headers, RetailEventsTopic, type RetailEventV1 } from '@mmp/contracts';
import { Controller, Inject, Logger } from '@nestjs/common';
import { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';

/**
 * Kafka entry: `retail.events.v1`. The bus has already validated each record with the same
 * schema the HTTP path uses; invalid records went to `retail.events.dlq.v1` with the reason.
 * Records that are valid but refused by a rule on the customer's state (a foreign currency, an
 * erased customer) go there too, with the same headers, and the partition moves on: throwing
 * instead would retry the whole batch and then every record alone for one refusal.
 */
@Controller()
export class RetailEventsConsumer {
  private readonly logger = new Logger('RetailEventsConsumer');

  constructor(
    private readonly ingest: IngestEventsUsecase,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
  ) {}

  @OnMessages(RetailEventsTopic, 'ingestion')
  async handle(batch: readonly IncomingMessage<RetailEventV1>[]): Promise<void> {
    const outcome = await this.ingest.execute(batch.map((message) => message.value));
    if (outcome.rejected.length === 0) return;
    const reasons = new Map(outcome.rejected.map((r) => [r.eventId, `${r.path}: ${r.message}`]));
    const letters = batch.flatMap((message) => {
      const reason = reasons.get(message.value.eventId);
      if (reason === undefined) return [];
      // One letter per eventId: a record repeated in the batch was counted as a duplicate.
      reasons.delete(message.value.eventId);
      return [
        {
          key: message.key,
          value: JSON.stringify(message.value),
          headers: {
            ...message.headers,
            [Headers.dlqReason]: reason,
            [Headers.dlqSourceTopic]: message.topic,
            [Headers.dlqSourcePartition]: String(message.partition),
            [Headers.dlqSourceOffset]: message.offset,
            [Headers.dlqConsumerGroup]: 'ingestion',
          },
        },
      ];
    });
    await this.bus.publishRaw(RetailEventsTopic.dlq, letters);
    for (const letter of letters) {
      this.logger.warn(
        `${RetailEventsTopic.name} offset ${letter.headers[Headers.dlqSourceOffset]} sent to ${RetailEventsTopic.dlq}: ${letter.headers[Headers.dlqReason]}`,
      );
    }
  }
}
