import { CLOCK, type Clock } from '@mmp/clock';
import type { MessageEventV1 } from '@mmp/contracts';
import { neverReached } from '@mmp/journeys-domain';
import { Inject, Injectable } from '@nestjs/common';
import { SendLedgerStore } from '../../store/send-ledger.store';
import { FireDueTimersUsecase } from '../fire-due-timers/fire-due-timers.usecase';

/**
 * messages.events.v1 in: delivery's report on each send. Any status ends the send's pending
 * state in the ledger, and the customer's sends held for it are decided at once; a message
 * that never reached the customer (`neverReached`: suppressed, failed but for an unknown
 * outcome) also stops counting for frequency caps and same-day collisions.
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
        unsent: neverReached(e.status, e.reason),
      })),
      this.clock.now(),
    );
    await this.timers.fireHeldOf(reported);
  }
}
