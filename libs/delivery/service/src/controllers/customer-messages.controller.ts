import { Route } from '@mmp/server';
import { Controller, Get, Param } from '@nestjs/common';
import { MessageStore, type MessageView } from '../store/message.store';
import { customerMessagesRoute } from './messages.routes';

@Controller('v1/customers')
export class CustomerMessagesController {
  constructor(private readonly store: MessageStore) {}

  /** Every message decision for the customer, newest first, suppressed ones included (SPEC section 6). */
  @Get(':customerId/messages')
  @Route(customerMessagesRoute)
  async list(@Param('customerId') customerId: string): Promise<MessageView[]> {
    return this.store.messagesOf(customerId);
  }
}
