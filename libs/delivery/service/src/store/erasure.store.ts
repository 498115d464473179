import { InjectServiceDatabase, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** What erasure touches in delivery, in one transaction: every table that names the customer. */
@Injectable()
export class ErasureStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /**
   * Erases customers (SPEC section 6): their messages keep only what aggregates need (ids,
   * journey, template, status, times), losing address, subject, body, the rendered message
   * of a pending retry and the provider's words; their profile snapshots, dead letters,
   * reported push tokens and suppressed addresses go, and the bounce address leaves their
   * status events. A queued message not yet handed to a provider is never sent: it fails
   * with reason `customer_erased`. Safe to repeat.
   */
  async eraseCustomers(customerIds: readonly string[], now: Date): Promise<void> {
    if (customerIds.length === 0) return;
    await withTransaction(this.db, async (tx) => {
      await runSql(
        tx,
        `INSERT INTO delivery.erased_customers (customer_id, erased_at)
         SELECT c, $2 FROM unnest($1::text[]) AS c ON CONFLICT (customer_id) DO NOTHING`,
        [customerIds, now],
      );
      await runSql(
        tx,
        `UPDATE delivery.messages
            SET recipient = NULL, subject = NULL, body = NULL, pending_outbound = NULL, pending_request = NULL,
                last_error = NULL,
                next_attempt_at = NULL, updated_at = $2,
                status = CASE WHEN status = 'queued' AND handed_over_at IS NULL THEN 'failed' ELSE status END,
                reason = CASE WHEN status = 'queued' AND handed_over_at IS NULL THEN 'customer_erased' ELSE reason END
          WHERE customer_id = ANY($1::text[])`,
        [customerIds, now],
      );
      await runSql(
        tx,
        `UPDATE delivery.status_outbox SET payload = payload - 'address'
          WHERE payload ? 'address' AND payload->>'customerId' = ANY($1::text[])`,
        [customerIds],
      );
      for (const table of [
        'customer_snapshots',
        'dead_letters',
        'unregistered_push_tokens',
        'suppressed_addresses',
      ])
        await runSql(tx, `DELETE FROM delivery.${table} WHERE customer_id = ANY($1::text[])`, [customerIds]);
    });
  }
}
