import { Route } from '@mmp/server';
import { Controller, Get, Param } from '@nestjs/common';
import { MessageListQuery, type MessageView } from '../store/message-list.query';
import { customerMessagesRoute } from './messages.routes';

@Controller('v1/customers')
export class CustomerMessagesController {
  constructor(private readonly messages: MessageListQuery) {}

  /** Every message decision for the customer, newest first, suppressed ones included (SPEC section 6). */
  @Get(':customerId/messages')
  @Route(customerMessagesRoute)
  async list(@Param('customerId') customerId: string): Promise<MessageView[]> {
    return this.messages.messagesOf(customerId);
  }
}
