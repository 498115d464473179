import type { MessageEventV1 } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

interface FactRow {
  message_id: string;
  customer_id: string;
  journey_key: string;
  step_id: string;
  milestone_key: string;
  template: string;
  variant: string | null;
  channel: MessageEventV1['channel'];
  sent_at: Date | null;
}

/** What tracking needs to know of a message: who, which journey, and when it went out. */
export interface TrackedMessage {
  event: Omit<MessageEventV1, 'status' | 'reason' | 'occurredAt'>;
  sentAt: Date | null;
}

@Injectable()
export class MessageFactsStore {
  constructor(@InjectServiceDatabase('analytics') private readonly db: DataSource) {}

  /** Records every status event once per message and status; returns the ones that were new. */
  async record(events: readonly MessageEventV1[], executor: SqlExecutor = this.db): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = await queryRows<{ message_id: string; status: string }>(
      executor,
      `INSERT INTO analytics.message_facts
         (message_id, status, customer_id, journey_key, step_id, milestone_key, template, variant, channel, reason, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[], $11::timestamptz[])
       ON CONFLICT (message_id, status) DO NOTHING
       RETURNING message_id, status`,
      [
        events.map((e) => e.messageId),
        events.map((e) => e.status),
        events.map((e) => e.customerId),
        events.map((e) => e.journeyKey),
        events.map((e) => e.stepId),
        events.map((e) => e.milestoneKey),
        events.map((e) => e.template),
        events.map((e) => e.variant),
        events.map((e) => e.channel),
        events.map((e) => e.reason),
        events.map((e) => e.occurredAt),
      ],
    );
    return rows.map((row) => `${row.message_id}/${row.status}`);
  }

  /** The message as analytics saw it on messages.events.v1, or null when no status of it arrived yet. */
  async trackedMessage(messageId: string): Promise<TrackedMessage | null> {
    const [row] = await queryRows<FactRow>(
      this.db,
      `SELECT message_id, customer_id, journey_key, step_id, milestone_key, template, variant, channel,
              min(occurred_at) FILTER (WHERE status = 'sent') OVER () AS sent_at
         FROM analytics.message_facts WHERE message_id = $1
        ORDER BY occurred_at LIMIT 1`,
      [messageId],
    );
    if (!row) return null;
    return {
      event: {
        schemaVersion: 1,
        messageId: row.message_id,
        customerId: row.customer_id,
        journeyKey: row.journey_key,
        stepId: row.step_id,
        milestoneKey: row.milestone_key,
        template: row.template,
        variant: row.variant,
        channel: row.channel,
      },
      sentAt: row.sent_at,
    };
  }

  /** Erasure keeps the counts; the facts hold no trait or body, the touches' user agents go. */
  async eraseCustomer(customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await runSql(
      this.db,
      `UPDATE analytics.touches t SET user_agent = NULL
         FROM analytics.message_facts f
        WHERE f.message_id = t.message_id AND f.status = 'sent' AND f.customer_id = ANY($1::text[])`,
      [customerIds],
    );
  }
}
