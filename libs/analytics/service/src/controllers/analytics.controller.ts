import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { MessagesEventsTopic, type MessageEventV1 } from '@mmp/contracts';
import { Controller, Get, Param } from '@nestjs/common';
import { MessageFactsStore, type StatusCounts } from '../store/message-facts.store';

@Controller()
export class AnalyticsController {
  constructor(private readonly facts: MessageFactsStore) {}

  @OnMessages(MessagesEventsTopic, 'analytics')
  async onMessageEvents(batch: readonly IncomingMessage<MessageEventV1>[]): Promise<void> {
    await this.facts.record(batch.map((message) => message.value));
  }

  /** Message counts per status for a journey; entries, conversions and lift come with attribution. */
  @Get('v1/analytics/journeys/:journeyKey')
  async journey(@Param('journeyKey') journeyKey: string): Promise<{ journeyKey: string } & StatusCounts> {
    return { journeyKey, ...(await this.facts.countsFor(journeyKey)) };
  }
}
