import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retry loop's sweep also publishes status events left unpublished past their lease (a
 * retry's or a receipt's status has no redelivery to bring it back): it finds them by age.
 */
export class StatusOutboxSweep1764200000000 implements MigrationInterface {
  name = 'StatusOutboxSweep1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX status_outbox_unpublished_idx ON delivery.status_outbox (created_at) WHERE published_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX delivery.status_outbox_unpublished_idx`);
  }
}
