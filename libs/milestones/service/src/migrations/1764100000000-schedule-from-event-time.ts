import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Time-based milestones are scheduled from the customer's events, not from when they were
 * processed: each snapshot keeps the latest moment its events were seen at, and each schedule
 * row the latest firing the scheduler handled. The row stays once it has no next firing
 * (`fire_at` null), so what it handled is never produced again by a late event.
 */
export class ScheduleFromEventTime1764100000000 implements MigrationInterface {
  name = 'ScheduleFromEventTime1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE milestones.customer_snapshots ADD COLUMN scheduled_from timestamptz`);
    await db.query(`
      ALTER TABLE milestones.schedule
        ALTER COLUMN fire_at DROP NOT NULL,
        ADD COLUMN handled_through timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM milestones.schedule WHERE fire_at IS NULL`);
    await db.query(`
      ALTER TABLE milestones.schedule
        DROP COLUMN handled_through,
        ALTER COLUMN fire_at SET NOT NULL`);
    await db.query(`ALTER TABLE milestones.customer_snapshots DROP COLUMN scheduled_from`);
  }
}
