import { CLOCK, type Clock } from '@mmp/clock';
import type { MessageEventV1 } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { JourneyStore } from '../../store/journey.store';

/**
 * messages.events.v1 in: delivery's report on each send. Any status ends the send's pending
 * state in the ledger (a send held for it is decided on its next look); a message delivery
 * suppressed (consent, no address...) or failed never reached the customer, so it also stops
 * counting for frequency caps and same-day collisions.
 */
@Injectable()
export class RecordSendOutcomesUsecase {
  constructor(
    private readonly store: JourneyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly MessageEventV1[]): Promise<void> {
    await this.store.recordOutcomes(
      events.map((e) => ({
        messageId: e.messageId,
        unsent: e.status === 'suppressed' || e.status === 'failed',
      })),
      this.clock.now(),
    );
  }
}
