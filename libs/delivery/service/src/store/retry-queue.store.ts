import type { OutboundMessage } from '@mmp/channel-sdk';
import type { MessageRequestedV1 } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { messageRefOf, type MessageRef, type MessageRefRow } from './message-ledger.store';

/** A queued retry's recipient in suppressionAddress() form, from the rendered message it keeps. */
const retryRecipientSql = (alias: string): string =>
  `CASE WHEN ${alias}.channel = 'email' THEN lower(btrim(${alias}.pending_outbound->>'to'))
        ELSE btrim(${alias}.pending_outbound->>'to') END`;

/** A queued message whose retry is due, claimed for one more provider call. */
export interface DueRetry {
  ref: MessageRef;
  attempts: number;
  outbound: OutboundMessage;
  request: MessageRequestedV1 | null;
}

/**
 * The retry queue: the queued messages of `delivery.messages` waiting for a retry
 * (`next_attempt_at`, with the rendered message and request they keep), claimed when due,
 * suppressed when consent changed since the first attempt, and the stale handovers the retry
 * loop fails as outcome unknown. Each writes its status events into the status outbox in the
 * same statement.
 */
@Injectable()
export class RetryQueueStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /**
   * Suppresses the queued retries whose customer opted out of the channel, or whose address went
   * on the suppression list, since their first attempt, and writes their status events: a
   * retry is a message not yet handed to a provider, so the opt-out holds for it too. Returns
   * the message ids.
   */
  async withholdRetries(now: Date): Promise<string[]> {
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH judged AS (
         SELECT m.message_id,
                CASE WHEN EXISTS (SELECT 1 FROM delivery.consent_view v
                                   WHERE v.customer_id = m.customer_id AND v.channel = m.channel AND v.status = 'opted_out')
                       THEN 'consent'
                     WHEN EXISTS (SELECT 1 FROM delivery.suppressed_addresses s
                                   WHERE s.channel = m.channel AND s.status = 'opted_out'
                                     AND s.address = ${retryRecipientSql('m')})
                       THEN 'suppression_list'
                END AS reason
           FROM delivery.messages m
          WHERE m.status = 'queued' AND m.next_attempt_at IS NOT NULL AND m.pending_outbound IS NOT NULL
          FOR UPDATE OF m SKIP LOCKED),
       withheld AS (
         UPDATE delivery.messages m
            SET status = 'suppressed', reason = j.reason, next_attempt_at = NULL, pending_outbound = NULL,
                pending_request = NULL, updated_at = $1
           FROM judged j WHERE m.message_id = j.message_id AND j.reason IS NOT NULL
         RETURNING m.*)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT message_id || ':suppressed', message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', message_id, 'customerId', customer_id,
                'journeyKey', journey_key, 'stepId', step_id, 'milestoneKey', milestone_key, 'channel', channel,
                'template', template, 'variant', variant, 'status', 'suppressed', 'reason', reason,
                'occurredAt', to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              $1
         FROM withheld
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [now],
    );
    return rows.map((r) => r.message_id);
  }

  /**
   * Claims the queued messages whose retry is due, marking them handed over in the same
   * statement, so two instances never retry the same message.
   */
  async claimDueRetries(now: Date, limit: number): Promise<DueRetry[]> {
    const rows = await queryRows<
      MessageRefRow & {
        attempts: number;
        pending_outbound: OutboundMessage;
        pending_request: MessageRequestedV1 | null;
      }
    >(
      this.db,
      `UPDATE delivery.messages m SET handed_over_at = $1, next_attempt_at = NULL, updated_at = $1
        WHERE m.message_id IN (
              SELECT q.message_id FROM delivery.messages q
               WHERE q.next_attempt_at <= $1 AND q.status = 'queued' AND q.pending_outbound IS NOT NULL
                 -- Consent that changed since the first attempt: withholdRetries() suppresses these.
                 AND NOT EXISTS (SELECT 1 FROM delivery.consent_view v
                                  WHERE v.customer_id = q.customer_id AND v.channel = q.channel AND v.status = 'opted_out')
                 AND NOT EXISTS (SELECT 1 FROM delivery.suppressed_addresses s
                                  WHERE s.channel = q.channel AND s.status = 'opted_out' AND s.address = ${retryRecipientSql('q')})
               ORDER BY q.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING m.message_id, m.customer_id, m.journey_key, m.step_id, m.milestone_key, m.channel, m.template,
                  m.variant, m.attempts, m.pending_outbound, m.pending_request`,
      [now, limit],
    );
    return rows.map((r) => ({
      ref: messageRefOf(r),
      attempts: r.attempts,
      outbound: r.pending_outbound,
      request: r.pending_request,
    }));
  }

  /**
   * Fails, with `outcome_unknown`, queued messages handed to a provider before `handedOverBefore`
   * whose outcome was never recorded (the process died during the call), and writes their
   * status events. A redelivered request finds the same answer; this covers the retries nobody
   * redelivers. Returns the message ids.
   */
  async failStaleHandovers(handedOverBefore: Date, now: Date): Promise<string[]> {
    const rows = await queryRows<{ message_id: string }>(
      this.db,
      `WITH stale AS (
         UPDATE delivery.messages
            SET status = 'failed', reason = 'outcome_unknown', pending_outbound = NULL, pending_request = NULL,
                updated_at = $2
          WHERE status = 'queued' AND handed_over_at < $1
         RETURNING *)
       INSERT INTO delivery.status_outbox (event_id, message_id, payload, created_at)
       SELECT message_id || ':failed', message_id,
              jsonb_build_object('schemaVersion', 1, 'messageId', message_id, 'customerId', customer_id,
                'journeyKey', journey_key, 'stepId', step_id, 'milestoneKey', milestone_key, 'channel', channel,
                'template', template, 'variant', variant, 'status', 'failed', 'reason', 'outcome_unknown',
                'occurredAt', to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
              $2
         FROM stale
       ON CONFLICT (event_id) DO NOTHING
       RETURNING message_id`,
      [handedOverBefore, now],
    );
    return rows.map((r) => r.message_id);
  }

  /** When the next retry is due, if any. */
  async nextRetryAt(): Promise<Date | undefined> {
    const [row] = await queryRows<{ at: Date | null }>(
      this.db,
      `SELECT min(next_attempt_at) AS at FROM delivery.messages WHERE next_attempt_at IS NOT NULL`,
      [],
    );
    return row?.at ?? undefined;
  }
}
