import { Controller, Get, Param } from '@nestjs/common';
import { MessageListQuery, type MessageView } from '../store/message-list.query';

@Controller('v1/customers')
export class CustomerMessagesController {
  constructor(private readonly messages: MessageListQuery) {}

  /** Every message decision for the customer, newest first, suppressed ones included (SPEC section 6). */
  @Get(':customerId/messages')
  async list(@Param('customerId') customerId: string): Promise<MessageView[]> {
    return this.messages.messagesOf(customerId);
  }
}
