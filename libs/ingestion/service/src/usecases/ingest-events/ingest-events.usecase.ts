import { CLOCK, type Clock } from '@mmp/clock';
import { CustomerEventsTopic, type RetailEventV1 } from '@mmp/contracts';
import { isTriggerable, toCanonicalEvent } from '@mmp/ingestion-domain';
import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { ProgramStore } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { EventLogStore } from '../../store/event-log.store';
import { IngestBatch, type EventRejection } from './ingest-batch';

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  /** Valid events a rule on the customer's state refused (foreign currency, erased customer); nothing of them was stored. */
  rejected: EventRejection[];
}

/**
 * The one ingestion path, shared by `POST /v1/events` and the `retail.events.v1` consumer:
 * valid events in, profiles updated in one transaction, `customer.events.v1` out.
 */
@Injectable()
export class IngestEventsUsecase {
  constructor(
    private readonly batches: IngestBatch,
    private readonly events: EventLogStore,
    private readonly program: ProgramStore,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly RetailEventV1[]): Promise<IngestOutcome> {
    const receivedAt = this.clock.now();
    const maxAgeHours = this.program.current().policies.maxTriggerAgeHours;
    const canonical = events.map((event) =>
      toCanonicalEvent(event, receivedAt, isTriggerable(new Date(event.occurredAt), receivedAt, maxAgeHours)),
    );
    const result = await this.batches.ingest(canonical, receivedAt);
    // Leftovers of an earlier batch arrived before this one's events.
    const toPublish = [...result.unpublished, ...result.applied];
    if (toPublish.length > 0) {
      await this.bus.publish(
        CustomerEventsTopic,
        toPublish.map((message) => ({ key: message.customerId, value: message })),
      );
      await this.events.markPublished(
        result.batchId,
        result.unpublished.map((leftover) => leftover.eventId),
      );
    }
    return {
      accepted: result.applied.length,
      duplicates: result.duplicates.length,
      rejected: result.rejected,
    };
  }
}
