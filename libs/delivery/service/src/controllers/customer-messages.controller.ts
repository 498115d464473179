import { Controller, Get, Param } from '@nestjs/common';
import { MessageStore, type MessageView } from '../store/message.store';

@Controller('v1/customers')
export class CustomerMessagesController {
  constructor(private readonly store: MessageStore) {}

  /** Every message decision for the customer, newest first, suppressed ones included (SPEC section 6). */
  @Get(':customerId/messages')
  async list(@Param('customerId') customerId: string): Promise<MessageView[]> {
    return this.store.messagesOf(customerId);
  }
}
