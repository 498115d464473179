import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { noOrders, snapshotOf } from '@mmp/ingestion-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

import { OrderStore } from './order.store';
import { toProfileState, type ProfileRow } from './profile.store';

/** What erasure touches in ingestion, in one transaction: the profile (a tombstone), the identities, the events. */
@Injectable()
export class ErasureStore {
  constructor(
    @InjectServiceDatabase('ingestion') private readonly db: DataSource,
    private readonly orders: OrderStore,
  ) {}

  /**
   * Erases a customer's personal data: traits and their versions, every
   * stored event's properties and anonymousId, and the identity links. Counts, dates and orders
   * stay (aggregates, no personal data). The profile is kept as a tombstone (`erased_at`) so that
   * the id takes no new events, even one that was never seen before. Returns the profile as it
   * is left, for the erasure event; erasing twice is harmless.
   */
  async erase(customerId: string, now: Date): Promise<CustomerProfileSnapshot> {
    return withTransaction(this.db, async (tx) => {
      // The tombstone first: it waits for any batch holding the profile lock and makes later
      // batches refuse the customer, so the scrub below (a new statement, a new snapshot) sees
      // every event that will ever be stored for them.
      const rows = await queryRows<ProfileRow>(
        tx,
        `INSERT INTO ingestion.profiles AS p (customer_id, erased_at, created_at, updated_at)
         VALUES ($1, $2, $2, $2)
         ON CONFLICT (customer_id) DO UPDATE
            SET traits = '{}', trait_versions = '{}', erased_at = coalesce(p.erased_at, $2), updated_at = $2
         RETURNING customer_id, traits, trait_versions, event_counts, registered_at`,
        [customerId, now],
      );
      const row = rows[0];
      if (!row) throw new Error(`erasing ${customerId} returned no profile`);
      await runSql(
        tx,
        // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
        `WITH unlinked AS (DELETE FROM ingestion.identities WHERE customer_id = $1)
         UPDATE ingestion.events SET properties = '{}', anonymous_id = NULL
          WHERE customer_id = $1 AND (properties <> '{}' OR anonymous_id IS NOT NULL)`,
        [customerId],
      );
      const aggregates = await this.orders.aggregatesOf(tx, [customerId]);
      return snapshotOf(toProfileState(row), aggregates.get(customerId) ?? noOrders);
    });
  }
}
