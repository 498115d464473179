import { MESSAGE_BUS, OnMessages, type IncomingMessage, type MessageBus } from '@mmp/bus';
import { RetailEventsTopic, type RetailEventV1 } from '@mmp/contracts';
import { Controller, Inject, Logger } from '@nestjs/common';
import { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';
import { INGESTION_GROUP, refusedLetters, sendDeadLetters } from './dead-letter';

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

  @OnMessages(RetailEventsTopic, INGESTION_GROUP)
  async handle(batch: readonly IncomingMessage<RetailEventV1>[]): Promise<void> {
    const outcome = await this.ingest.execute(batch.map((message) => message.value));
    const letters = refusedLetters(
      batch.map((message) => ({ message, event: message.value })),
      outcome.rejected,
      ({ message }) => JSON.stringify(message.value),
    );
    await sendDeadLetters(this.bus, this.logger, RetailEventsTopic.dlq, letters);
  }
}
