import type { CustomerEventV1 } from '@mmp/contracts';
import type { CanonicalEvent } from '@mmp/ingestion-domain';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

interface StoredEventRow {
  event_id: string;
  customer_id: string;
  anonymous_id: string | null;
  type: string;
  occurred_at: Date;
  received_at: Date;
  triggerable: boolean;
  properties: Record<string, unknown>;
}

/** A stored event whose publication did not complete, with its message if its batch held it. */
export interface UnpublishedEvent {
  event: CanonicalEvent;
  held: CustomerEventV1 | null;
}

/**
 * The idempotency record of events (`ingestion.events`, each eventId stored once) and the
 * publish markers of its batches (`ingestion.unpublished_batches`: events stored but not yet
 * on customer.events.v1). A batch's orders and refunds are stored in the same statement as its
 * events.
 */
@Injectable()
export class EventLogStore {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {}

  /**
   * Stores the accepted events of a batch in one statement: the events new to the idempotency
   * record, the row that keeps them marked unpublished, and the orders and refunds among them.
   * Returns the events inserted, each with the batch's marker (none inserted: no marker).
   */
  async storeBatch(
    tx: EntityManager,
    accepted: readonly CanonicalEvent[],
    now: Date,
  ): Promise<{ event_id: string; batch_id: string }[]> {
    const orders = accepted.filter((e) => e.type === 'order.placed');
    const refunds = accepted.filter((e) => e.type === 'order.refunded');
    return queryRows<{ event_id: string; batch_id: string }>(
      tx,
      // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
      `WITH inserted AS (
              INSERT INTO ingestion.events
                (event_id, customer_id, anonymous_id, type, occurred_at, received_at, triggerable, properties)
              SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[], $8::jsonb[])
              ON CONFLICT (event_id) DO NOTHING
              RETURNING event_id),
            -- In arrival order: a republish must go out in the order the first publish would have.
            pending AS (
              INSERT INTO ingestion.unpublished_batches (event_ids, created_at)
              SELECT array_agg(i.event_id ORDER BY a.position), $9
                FROM inserted i JOIN unnest($1::text[]) WITH ORDINALITY AS a(event_id, position) USING (event_id)
              HAVING count(*) > 0
              RETURNING batch_id),
            -- Two events for one order: the one that happened first is the order, whichever
            -- arrived first (ties by eventId, in code point order like byOccurrence).
            new_orders AS (
              INSERT INTO ingestion.orders AS s (customer_id, order_id, total, currency, placed_at, event_id)
              SELECT DISTINCT ON (o.customer_id, o.order_id) o.*
                FROM unnest($10::text[], $11::text[], $12::numeric[], $13::text[], $14::timestamptz[], $15::text[])
                     AS o(customer_id, order_id, total, currency, placed_at, event_id)
               WHERE o.event_id IN (SELECT event_id FROM inserted)
               ORDER BY o.customer_id, o.order_id, o.placed_at, o.event_id COLLATE "C"
              ON CONFLICT (customer_id, order_id) DO UPDATE
                 SET total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at,
                     event_id = excluded.event_id, excluded_reason = NULL
               WHERE excluded.placed_at < s.placed_at
                  OR (excluded.placed_at = s.placed_at AND excluded.event_id COLLATE "C" < s.event_id COLLATE "C")),
            new_refunds AS (
              INSERT INTO ingestion.refunds (event_id, customer_id, order_id, amount, currency)
              SELECT r.* FROM unnest($16::text[], $17::text[], $18::text[], $19::numeric[], $20::text[])
                     AS r(event_id, customer_id, order_id, amount, currency)
               WHERE r.event_id IN (SELECT event_id FROM inserted)
              ON CONFLICT (event_id) DO NOTHING)
       SELECT i.event_id, (SELECT p.batch_id::text FROM pending p) AS batch_id FROM inserted i`,
      [
        accepted.map((e) => e.eventId),
        accepted.map((e) => e.customerId),
        accepted.map((e) => e.anonymousId),
        accepted.map((e) => e.type),
        accepted.map((e) => e.occurredAt),
        accepted.map((e) => e.receivedAt),
        accepted.map((e) => e.triggerable),
        accepted.map((e) => JSON.stringify(e.properties)),
        now,
        orders.map((e) => e.customerId),
        orders.map((e) => String(e.properties['orderId'])),
        orders.map((e) => String(e.properties['total'])),
        orders.map((e) => String(e.properties['currency'])),
        orders.map((e) => e.occurredAt),
        orders.map((e) => e.eventId),
        refunds.map((e) => e.eventId),
        refunds.map((e) => e.customerId),
        refunds.map((e) => String(e.properties['orderId'])),
        refunds.map((e) => String(e.properties['amount'])),
        refunds.map((e) => String(e.properties['currency'])),
      ],
    );
  }

  /**
   * Which of these events the idempotency record already holds: a redelivered batch's, whose
   * effects are already in the stored state the rules read.
   */
  async recordedAmong(tx: EntityManager, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await queryRows<{ event_id: string }>(
      tx,
      'SELECT event_id FROM ingestion.events WHERE event_id = ANY($1::text[])',
      [eventIds],
    );
    return new Set(rows.map((row) => row.event_id));
  }

  /**
   * Of these known events, those whose earlier publication did not complete, in the order they
   * arrived, each with its message if the batch held it (null: rebuild it from the event and
   * the profile as stored).
   */
  async unpublishedAmong(tx: EntityManager, eventIds: readonly string[]): Promise<UnpublishedEvent[]> {
    if (eventIds.length === 0) return [];
    const rows = await queryRows<StoredEventRow & { held: CustomerEventV1 | null }>(
      tx,
      `SELECT e.event_id, e.customer_id, e.anonymous_id, e.type, e.occurred_at, e.received_at,
              e.triggerable, e.properties, b.held_messages -> e.event_id AS held
         FROM ingestion.unpublished_batches b
        CROSS JOIN LATERAL unnest(b.event_ids) WITH ORDINALITY AS u(event_id, position)
         JOIN ingestion.events e ON e.event_id = u.event_id
        WHERE b.event_ids && $1::text[] AND u.event_id = ANY($1::text[])
        ORDER BY b.batch_id, u.position`,
      [eventIds],
    );
    return rows.map((row) => ({ event: toCanonical(row), held: row.held }));
  }

  /**
   * After a publish: drops the batch's unpublished row, and takes republished leftovers out of
   * the rows of their (failed) batches; a row left empty is dropped by the next call. The commit
   * does not wait for the WAL flush (synchronous_commit off for this transaction only): a mark
   * lost in a crash only publishes those events once more on redelivery, which consumers
   * deduplicate, and waiting for the disk here cost as much as the whole batch's transaction.
   */
  async markPublished(batchId: string | null, republished: readonly string[]): Promise<void> {
    if (batchId === null && republished.length === 0) return;
    await runSql(
      this.db,
      // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
      `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
            done AS (
              DELETE FROM ingestion.unpublished_batches
               WHERE (batch_id = $1::bigint OR cardinality(event_ids) = 0) AND EXISTS (SELECT 1 FROM relaxed))
       UPDATE ingestion.unpublished_batches
          SET event_ids = ARRAY(SELECT id FROM unnest(event_ids) AS id WHERE NOT id = ANY($2::text[]))
        WHERE event_ids && $2::text[]`,
      [batchId, republished],
    );
  }
}

function toCanonical(row: StoredEventRow): CanonicalEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    customerId: row.customer_id,
    anonymousId: row.anonymous_id,
    traits: undefined,
    properties: row.properties,
    triggerable: row.triggerable,
  };
}
