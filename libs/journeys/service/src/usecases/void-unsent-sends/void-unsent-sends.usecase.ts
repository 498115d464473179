import { CLOCK, type Clock } from '@mmp/clock';
import type { MessageEventV1 } from '@mmp/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { SendLedgerStore } from '../../store/send-ledger.store';

/**
 * messages.events.v1 in: a message delivery suppressed (consent, no address...) or failed never
 * reached the customer, so it stops counting for frequency caps and same-day collisions.
 */
@Injectable()
export class VoidUnsentSendsUsecase {
  constructor(
    private readonly ledger: SendLedgerStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(events: readonly MessageEventV1[]): Promise<void> {
    const unsent = events.filter((e) => e.status === 'suppressed' || e.status === 'failed');
    await this.ledger.voidSends(
      unsent.map((e) => e.messageId),
      this.clock.now(),
    );
  }
}
