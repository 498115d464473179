import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { CLOCK, type Clock } from '@mmp/clock';
import {
  ConsentChangesTopic,
  CustomerEventsTopic,
  isErasureEvent,
  type CustomerEventV1,
  MessagesEventsTopic,
  MessagesRequestedTopic,
  type MessageEventV1,
  suppressionAddress,
  type ConsentChangeV1,
  type MessageRequestedV1,
} from '@mmp/contracts';
import { Controller, Inject } from '@nestjs/common';
import { ConsentViewStore } from '../store/consent-view.store';
import { ErasureStore } from '../store/erasure.store';
import { PushTokenStore } from '../store/push-token.store';
import { ReceiptStore } from '../store/receipt.store';
import { SendMessagesUsecase } from '../usecases/send-messages/send-messages.usecase';

@Controller()
export class DeliveryConsumer {
  constructor(
    private readonly sendMessages: SendMessagesUsecase,
    private readonly consentView: ConsentViewStore,
    private readonly erasure: ErasureStore,
    private readonly pushTokens: PushTokenStore,
    private readonly receipts: ReceiptStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @OnMessages(MessagesRequestedTopic, 'delivery')
  async onRequested(batch: readonly IncomingMessage<MessageRequestedV1>[]): Promise<void> {
    await this.sendMessages.execute(batch.map((message) => message.value));
  }

  /** Delivery keeps its own consent view, so a send never waits on the consent service. */
  @OnMessages(ConsentChangesTopic, 'delivery')
  async onConsentChanges(batch: readonly IncomingMessage<ConsentChangeV1>[]): Promise<void> {
    await this.consentView.applyConsentChanges(
      batch.map(({ value }) => ({
        customerId: value.customerId,
        channel: value.channel,
        status: value.status,
        changedAt: new Date(value.changedAt),
        address: value.address ? suppressionAddress(value.channel, value.address) : null,
      })),
    );
  }

  /**
   * Erasure (`customer.erased`): the customer's addresses, bodies and snapshots go. A push token
   * registered after a provider reported it unregistered is usable again. Other events are not delivery's.
   */
  @OnMessages(CustomerEventsTopic, 'delivery')
  async onCustomerEvents(batch: readonly IncomingMessage<CustomerEventV1>[]): Promise<void> {
    const erased = batch.filter(({ value }) => isErasureEvent(value)).map(({ value }) => value.customerId);
    await this.erasure.eraseCustomers([...new Set(erased)], this.clock.now());
    await this.pushTokens.forgetUnregisteredTokens(
      batch.flatMap(({ value }) => {
        const token = value.properties['token'];
        return value.type === 'push.token.registered' && typeof token === 'string'
          ? [{ customerId: value.customerId, token, registeredAt: new Date(value.occurredAt) }]
          : [];
      }),
    );
  }

  /** Opens and clicks come from analytics' tracking endpoints; the message list shows them. */
  @OnMessages(MessagesEventsTopic, 'delivery')
  async onMessageEvents(batch: readonly IncomingMessage<MessageEventV1>[]): Promise<void> {
    const engagement = batch.flatMap(({ value }) =>
      value.status === 'opened' || value.status === 'clicked'
        ? [{ messageId: value.messageId, status: value.status }]
        : [],
    );
    await this.receipts.applyEngagement(engagement, this.clock.now());
  }
}
