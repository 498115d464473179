import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retry loop's stale-handover sweep (RetryQueueStore.failStaleHandovers) runs every second
 * and looks for queued messages handed over long ago: without an index it read every message
 * ever sent (a parallel sequential scan, 130 ms a round with 200,000 messages). This index holds
 * only the queued ones, those in flight or waiting for a retry. It names `status` alone, not
 * `handed_over_at`: the handover's update, which sets only `handed_over_at`, stays a HOT update
 * that touches no index.
 */
export class StaleHandoverIndex1764500000000 implements MigrationInterface {
  name = 'StaleHandoverIndex1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX messages_queued_idx ON delivery.messages (created_at) WHERE status = 'queued'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX delivery.messages_queued_idx`);
  }
}
