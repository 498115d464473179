import type { MessageStatus } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { messageRefOf, type MessageRef, type MessageRefRow } from './message-ledger.store';

/** A message as the customer's list shows it: what identifies it (but the customer), and where it stands. */
export type MessageView = Omit<MessageRef, 'customerId'> & {
  to: string | null;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  createdAt: string;
  sentAt: string | null;
};

/** The columns of `delivery.messages` a MessageView is made of, as the SQL selects them. */
export interface MessageViewRow extends MessageRefRow {
  recipient: string | null;
  subject: string | null;
  body: string | null;
  status: MessageStatus;
  reason: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** A message as the API shows it, its customer included (the customer's list leaves it out). */
export function messageViewOf(r: MessageViewRow): MessageView & { customerId: string } {
  return {
    ...messageRefOf(r),
    to: r.recipient,
    subject: r.subject,
    body: r.body,
    status: r.status,
    reason: r.reason,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  };
}

/** A customer's messages as the API lists them, newest first, read from the message ledger. */
@Injectable()
export class MessageListQuery {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  async messagesOf(customerId: string): Promise<MessageView[]> {
    const rows = await queryRows<Omit<MessageViewRow, 'customer_id'>>(
      this.db,
      `SELECT message_id, journey_key, step_id, milestone_key, channel, template, variant, recipient, subject, body,
              status, reason, created_at, sent_at
         FROM delivery.messages WHERE customer_id = $1 ORDER BY created_at DESC, message_id`,
      [customerId],
    );
    return rows.map((r) => {
      const { customerId: _customer, ...view } = messageViewOf({ ...r, customer_id: customerId });
      return view;
    });
  }
}
