import { OnMessages, type IncomingMessage } from '@mmp/bus';
import {
  ConsentChangesTopic,
  MessagesRequestedTopic,
  type ConsentChangeV1,
  type MessageRequestedV1,
} from '@mmp/contracts';
import { Controller } from '@nestjs/common';
import { MessageStore } from '../store/message.store';
import { SendMessagesUsecase } from '../usecases/send-messages/send-messages.usecase';

@Controller()
export class DeliveryConsumer {
  constructor(
    private readonly sendMessages: SendMessagesUsecase,
    private readonly store: MessageStore,
  ) {}

  @OnMessages(MessagesRequestedTopic, 'delivery')
  async onRequested(batch: readonly IncomingMessage<MessageRequestedV1>[]): Promise<void> {
    await this.sendMessages.execute(batch.map((message) => message.value));
  }

  /** Delivery keeps its own consent view, so a send never waits on the consent service. */
  @OnMessages(ConsentChangesTopic, 'delivery')
  async onConsentChanges(batch: readonly IncomingMessage<ConsentChangeV1>[]): Promise<void> {
    await this.store.applyConsentChanges(
      batch.map(({ value }) => ({
        customerId: value.customerId,
        channel: value.channel,
        status: value.status,
        changedAt: new Date(value.changedAt),
      })),
    );
  }
}
