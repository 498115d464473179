import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each occurrence was recorded: `publish_after` moves with every claim of the publisher, so
 * it cannot say how long a pending occurrence has waited (the outbox age on /metrics). Rows from
 * before this migration have none and count from their claim.
 */
export class OccurrencesRecordedAt1764400000000 implements MigrationInterface {
  name = 'OccurrencesRecordedAt1764400000000';

  async up(db: QueryRunner): Promise<void> {
    // Added without a default, then given one: no rewrite of the existing rows.
    await db.query(`ALTER TABLE milestones.occurrences ADD COLUMN recorded_at timestamptz`);
    await db.query(`ALTER TABLE milestones.occurrences ALTER COLUMN recorded_at SET DEFAULT now()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE milestones.occurrences DROP COLUMN recorded_at`);
  }
}
