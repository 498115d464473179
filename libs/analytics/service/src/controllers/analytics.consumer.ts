import { OnMessages, type IncomingMessage } from '@mmp/bus';
import {
  CustomerEventsTopic,
  JourneyEntriesTopic,
  MessagesEventsTopic,
  type CustomerEventV1,
  type JourneyEntryV1,
  type MessageEventV1,
} from '@mmp/contracts';
import { Controller } from '@nestjs/common';
import { MessageFactsStore } from '../store/message-facts.store';
import { AttributeConversionsUseCase } from '../usecases/attribute-conversions/attribute-conversions.usecase';

/** Analytics' consumers: message statuses, journey entries and customer events. */
@Controller()
export class AnalyticsConsumer {
  constructor(
    private readonly facts: MessageFactsStore,
    private readonly attribution: AttributeConversionsUseCase,
  ) {}

  @OnMessages(MessagesEventsTopic, 'analytics')
  async onMessageEvents(batch: readonly IncomingMessage<MessageEventV1>[]): Promise<void> {
    await this.facts.record(batch.map((message) => message.value));
  }

  @OnMessages(JourneyEntriesTopic, 'analytics')
  async onJourneyEntries(batch: readonly IncomingMessage<JourneyEntryV1>[]): Promise<void> {
    await this.attribution.onEntries(batch.map((message) => message.value));
  }

  @OnMessages(CustomerEventsTopic, 'analytics')
  async onCustomerEvents(batch: readonly IncomingMessage<CustomerEventV1>[]): Promise<void> {
    await this.attribution.onCustomerEvents(batch.map((message) => message.value));
  }
}
