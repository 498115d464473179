import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { RetailEventsTopic, type RetailEventV1 } from '@mmp/contracts';
import { Controller } from '@nestjs/common';
import { IngestEventsUsecase } from '../usecases/ingest-events/ingest-events.usecase';

/**
 * Kafka entry: `retail.events.v1`. The bus has already validated each record with the same
 * schema the HTTP path uses; invalid records went to `retail.events.dlq.v1` with the reason.
 */
@Controller()
export class RetailEventsConsumer {
  constructor(private readonly ingest: IngestEventsUsecase) {}

  @OnMessages(RetailEventsTopic, 'ingestion')
  async handle(batch: readonly IncomingMessage<RetailEventV1>[]): Promise<void> {
    await this.ingest.execute(batch.map((message) => message.value));
  }
}
