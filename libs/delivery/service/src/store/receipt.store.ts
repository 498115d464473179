import type { MessageReceipt } from '@mmp/channel-sdk';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * How far along a message is: a status only ever moves to a higher rank, so a late `delivered`
 * never undoes a `clicked`. `suppressed` is final.
 */
const STATUS_RANK_VALUES = `VALUES ('queued', 0), ('sent', 1), ('delivered', 2), ('bounced', 3), ('failed', 3),
  ('opened', 4), ('clicked', 5), ('suppressed', 9)`;

/**
 * What is learnt about messages after their send: provider receipts (delivered, bounced,
 * complaints) and analytics' opens and clicks, applied to `delivery.messages` so statuses only
 * move forward; receipts write their status events into the status outbox in the same statement.
 */
@Injectable()
export class ReceiptStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /**
   * Applies provider receipts to the messages they name (by provider message id), in one
   * statement: a status only moves forward (a late `delivered` never undoes a `clicked`). A
   * complaint changes no status; it is published with the message's status and reason
   * `complaint`, for consent to opt the customer out. Returns the events written.
   */
  async applyReceipts(receipts: readonly MessageReceipt[], provider: string, now: Date): Promise<string[]> {
    if (receipts.length === 0) return [];
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH r AS (
         SELECT DISTINCT ON (pmid, status) pmid, status, reason, at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(pmid, status, reason, at)),
       rank(status, n) AS (${STATUS_RANK_VALUES}),
       updated AS (
         UPDATE delivery.messages m
            SET status = r.status, reason = r.reason, updated_at = $6
           FROM r, rank old_rank, rank new_rank
          WHERE m.provider_message_id = r.pmid AND m.provider = $5 AND r.status <> 'complained'
            AND old_rank.status = m.status AND new_rank.status = r.status AND new_rank.n > old_rank.n
         RETURNING m.*, coalesce(r.at, $6) AS event_at),
       complained AS (
         SELECT m.*, coalesce(r.at, $6) AS event_at FROM delivery.messages m JOIN r ON m.provider_message_id = r.pmid
          WHERE m.provider = $5 AND r.status = 'complained'),
       events AS (
         SELECT message_id || ':' || status AS event_id, message_id, customer_id, journey_key, step_id, milestone_key,
                channel, template, variant, status, reason, event_at,
                CASE WHEN status = 'bounced' THEN recipient END AS address FROM updated
         UNION ALL
         SELECT message_id || ':complaint', message_id, customer_id, journey_key, step_id, milestone_key,
                channel, template, variant, status, 'complaint', event_at, NULL FROM complained)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT e.event_id, e.message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', e.message_id, 'customerId', e.customer_id,
                'journeyKey', e.journey_key, 'stepId', e.step_id, 'milestoneKey', e.milestone_key,
                'channel', e.channel, 'template', e.template, 'variant', e.variant, 'status', e.status,
                'reason', e.reason, 'occurredAt', to_char(e.event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
              -- A bounce names its address, for consent's suppression list.
              || CASE WHEN e.address IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('address', e.address) END,
              $6
         FROM events e
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [
        receipts.map((r) => r.providerMessageId),
        receipts.map((r) => r.status),
        receipts.map((r) => r.reason),
        receipts.map((r) => r.occurredAt),
        provider,
        now,
      ],
    );
    return [...new Set(rows.map((r) => r.message_id))];
  }

  /**
   * Opens and clicks that analytics recorded (and already published on messages.events.v1), so
   * the customer's message list shows them; one statement, moving statuses forward only.
   */
  async applyEngagement(
    events: readonly { messageId: string; status: 'opened' | 'clicked' }[],
    now: Date,
  ): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      this.db,
      `WITH r AS (
         SELECT DISTINCT ON (id) id, status
           FROM unnest($1::text[], $2::text[]) AS u(id, status)
          ORDER BY id, (status = 'clicked') DESC),
       rank(status, n) AS (${STATUS_RANK_VALUES})
       UPDATE delivery.messages m
          SET status = r.status, updated_at = $3
         FROM r, rank old_rank, rank new_rank
        WHERE m.message_id = r.id AND old_rank.status = m.status AND new_rank.status = r.status
          AND new_rank.n > old_rank.n`,
      [events.map((e) => e.messageId), events.map((e) => e.status), now],
    );
  }
}
