import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event that reached an entry's milestone: a milestone is reached when its event occurred,
 * so that event sits at the very start of the goal window and must not count as the conversion.
 */
export class EntryCause1764400000000 implements MigrationInterface {
  name = 'EntryCause1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE analytics.entries ADD COLUMN cause_event_id text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE analytics.entries DROP COLUMN cause_event_id`);
  }
}
