import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import {
  CustomerEventsTopic,
  isErasureEvent,
  MessagesEventsTopic,
  type CustomerEventV1,
  type MessageEventV1,
} from '@mmp/contracts';
import { Controller, Inject } from '@nestjs/common';
import { ConsentStore } from '../store/consent.store';
import { ApplyReceiptsUsecase } from '../usecases/apply-receipts/apply-receipts.usecase';

@Controller()
export class ConsentConsumer {
  constructor(
    private readonly applyReceipts: ApplyReceiptsUsecase,
    private readonly store: ConsentStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Bounces and complaints: the suppression list and complaint opt-outs. */
  @OnMessages(MessagesEventsTopic, 'consent')
  async onMessageEvents(batch: readonly IncomingMessage<MessageEventV1>[]): Promise<void> {
    await this.applyReceipts.execute(batch.map((m) => m.value));
  }

  /**
   * The customer's email and phone as the latest profile has them: an inbound SMS names only
   * its phone number, so this is how a STOP finds its customer.
   */
  @OnMessages(CustomerEventsTopic, 'consent')
  async onCustomerEvents(batch: readonly IncomingMessage<CustomerEventV1>[]): Promise<void> {
    const events = batch.map((m) => m.value);
    const erased = [...new Set(events.filter(isErasureEvent).map((e) => e.customerId))];
    await this.store.saveContacts(
      events
        .filter((value) => !erased.includes(value.customerId))
        .map((value) => ({
          customerId: value.customerId,
          email: stringTrait(value.profile.traits['email']),
          phone: stringTrait(value.profile.traits['phone']),
          seenAt: new Date(value.receivedAt),
        })),
    );
    // Erasure (customer.erased): after the contacts, so nothing of the batch outlives it.
    await this.store.eraseCustomers(erased, this.clock.now());
  }
}

function stringTrait(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}
