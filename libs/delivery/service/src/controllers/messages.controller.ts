import { AppError } from '@mmp/errors';
import { queryOf, Route, type Page } from '@mmp/server';
import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  MessageLogQuery,
  type LoggedMessage,
  type StatusChange,
  type StepOutcomes,
} from '../store/message-log.query';
import { messageLogRoute, messageRoute, messageSummaryRoute } from './messages.routes';

/** The console's message log: every decision delivery recorded, filtered, with its history. */
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly messages: MessageLogQuery) {}

  @Get()
  @Route(messageLogRoute)
  async log(@Query() raw: unknown): Promise<Page<LoggedMessage>> {
    const { limit, cursor, ...filter } = queryOf(messageLogRoute, raw);
    return this.messages.log(filter, limit, cursor);
  }

  // Declared before ':messageId' so that "summary" is not taken for a message id.
  @Get('summary')
  @Route(messageSummaryRoute)
  async summary(@Query() raw: unknown): Promise<{ journeyKey: string; steps: StepOutcomes[] }> {
    const { journey } = queryOf(messageSummaryRoute, raw);
    return { journeyKey: journey, steps: await this.messages.outcomes(journey) };
  }

  @Get(':messageId')
  @Route(messageRoute)
  async one(
    @Param('messageId') messageId: string,
  ): Promise<LoggedMessage & { statusHistory: StatusChange[] }> {
    const message = await this.messages.message(messageId);
    if (!message) throw AppError.notFound(`no message ${messageId}`);
    return message;
  }
}
