import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outboxes for what delivery tells other services about beyond message statuses: push tokens a
 * provider reported unregistered (as `push.token.unregistered` on retail.events.v1, so ingestion
 * removes them from the profile) and dead letters (on messages.requested.v1's DLQ topic).
 */
export class PushTokenAndDeadLetterOutboxes1764100000000 implements MigrationInterface {
  name = 'PushTokenAndDeadLetterOutboxes1764100000000';

  async up(db: QueryRunner): Promise<void> {
    // One row per customer and token: a token shared by two customers' profiles is removed from both.
    await db.query(
      `ALTER TABLE delivery.unregistered_push_tokens DROP CONSTRAINT unregistered_push_tokens_pkey`,
    );
    await db.query(`DROP INDEX delivery.unregistered_push_tokens_customer_idx`);
    await db.query(
      `ALTER TABLE delivery.unregistered_push_tokens ADD PRIMARY KEY (customer_id, token),
         ADD COLUMN message_id text, ADD COLUMN published_at timestamptz`,
    );
    await db.query(
      `CREATE INDEX unregistered_push_tokens_pending_idx ON delivery.unregistered_push_tokens (reported_at)
        WHERE published_at IS NULL`,
    );
    // The original request travels to the DLQ, so it is kept while a retry is pending.
    await db.query(`ALTER TABLE delivery.messages ADD COLUMN pending_request jsonb`);
    await db.query(
      `ALTER TABLE delivery.dead_letters ADD COLUMN request jsonb, ADD COLUMN reason text, ADD COLUMN published_at timestamptz`,
    );
    // Dead letters written before the DLQ existed have no request to publish.
    await db.query(`UPDATE delivery.dead_letters SET published_at = created_at`);
    await db.query(
      `CREATE INDEX dead_letters_pending_idx ON delivery.dead_letters (created_at) WHERE published_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX delivery.dead_letters_pending_idx`);
    await db.query(
      `ALTER TABLE delivery.dead_letters DROP COLUMN request, DROP COLUMN reason, DROP COLUMN published_at`,
    );
    await db.query(`ALTER TABLE delivery.messages DROP COLUMN pending_request`);
    await db.query(`DROP INDEX delivery.unregistered_push_tokens_pending_idx`);
    await db.query(
      `ALTER TABLE delivery.unregistered_push_tokens DROP CONSTRAINT unregistered_push_tokens_pkey,
         DROP COLUMN message_id, DROP COLUMN published_at`,
    );
    await db.query(
      `DELETE FROM delivery.unregistered_push_tokens a USING delivery.unregistered_push_tokens b
        WHERE a.token = b.token AND a.ctid > b.ctid`,
    );
    await db.query(`ALTER TABLE delivery.unregistered_push_tokens ADD PRIMARY KEY (token)`);
    await db.query(
      `CREATE INDEX unregistered_push_tokens_customer_idx ON delivery.unregistered_push_tokens (customer_id)`,
    );
  }
}
