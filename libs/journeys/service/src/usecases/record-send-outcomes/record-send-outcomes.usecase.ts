import { CLOCK, type Clock } from '@mmp/clock';
import type { MessageEventV1 } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { SendLedgerStore } from '../../store/send-ledger.store';
import { FireDueTimersUsecase } from '../fire-due-timers/fire-due-timers.usecase';

/**
 * messages.events.v1 in: delivery's report on each send. Any status ends the send's pending
 * state in the ledger, and the customer's sends held for it are decided at once; a message
 * delivery suppressed (consent, no address...) or failed never reached the customer, so it also
 * stops counting for frequency caps and same-day collisions.
 */
@Injectable()
export class RecordSendOutcomesUsecase {
  constructor(
    private readonly ledger: SendLedgerStore,
    private readonly timers: FireDueTimersUsecase,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly MessageEventV1[]): Promise<void> {
    const reported = await this.ledger.recordOutcomes(
      events.map((e) => ({
        messageId: e.messageId,
        unsent: e.status === 'suppressed' || e.status === 'failed',
      })),
      this.clock.now(),
    );
    await this.timers.fireHeldOf(reported);
  }
}
