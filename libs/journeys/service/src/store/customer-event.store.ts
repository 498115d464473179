import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** A customer event as journeys reads it: what happened, to whom, when. */
export interface KeptEvent {
  customerId: string;
  eventId: string;
  type: string;
  occurredAt: Date;
}

/**
 * The customers' events, kept narrowly (`journeys.customer_events`: type and time, once per
 * eventId) for what counts since an instance's entry, and pruned once no live instance counts them.
 */
@Injectable()
export class CustomerEventStore {
  constructor(@InjectServiceDatabase('journeys') private readonly db: DataSource) {}

  /** Keeps the customers' events narrowly (type and time), once per eventId, for what counts since entry. */
  async recordCustomerEvents(tx: EntityManager, events: readonly KeptEvent[]): Promise<void> {
    if (events.length === 0) return;
    await runSql(
      tx,
      `INSERT INTO journeys.customer_events (customer_id, event_id, event_type, occurred_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT DO NOTHING`,
      [
        events.map((e) => e.customerId),
        events.map((e) => e.eventId),
        events.map((e) => e.type),
        events.map((e) => e.occurredAt),
      ],
    );
  }

  /**
   * Deletes up to `limit` kept events older than `before` that no live instance counts (none of
   * the customer's live instances entered at or before them); returns how many. Entries to come
   * need only events after their `reachedAt`, which is at most the grace period old.
   */
  async pruneCustomerEvents(before: Date, limit: number): Promise<number> {
    const rows = await queryRows<{ event_id: string }>(
      this.db,
      `DELETE FROM journeys.customer_events d
        USING (SELECT e.customer_id, e.event_id FROM journeys.customer_events e
                WHERE e.occurred_at < $1
                  AND NOT EXISTS (SELECT 1 FROM journeys.instances i
                                   WHERE i.customer_id = e.customer_id AND i.status IN ('active', 'waiting')
                                     AND i.entered_at <= e.occurred_at)
                ORDER BY e.occurred_at
                LIMIT $2) AS old
        WHERE d.customer_id = old.customer_id AND d.event_id = old.event_id
        RETURNING d.event_id`,
      [before, limit],
    );
    return rows.length;
  }
}
