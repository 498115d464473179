import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The console's message log reads newest first, optionally for one journey (and step), and a
 * message's status history from the status events kept in status_outbox (published ones stay).
 */
export class MessageLogIndexes1764400000000 implements MigrationInterface {
  name = 'MessageLogIndexes1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX messages_log_idx ON delivery.messages (created_at DESC, message_id DESC)`);
    await db.query(
      `CREATE INDEX messages_journey_log_idx ON delivery.messages (journey_key, step_id, created_at DESC, message_id DESC)`,
    );
    await db.query(`CREATE INDEX status_outbox_message_idx ON delivery.status_outbox (message_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP INDEX delivery.messages_log_idx, delivery.messages_journey_log_idx, delivery.status_outbox_message_idx`,
    );
  }
}
