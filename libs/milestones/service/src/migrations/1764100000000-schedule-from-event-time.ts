import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Time-based milestones are scheduled from the customer's events, not from when they were
 * processed: each snapshot keeps the latest moment its events were seen at, and each schedule
 * row the latest firing the scheduler handled. The row stays once it has no next firing
 * (`fire_at` null), so what it handled is never produced again by a late event. And every
 * event applied is remembered for a while, so a redelivered one is recognised and not applied
 * twice (a threshold crossed again by an old profile, a snapshot set back).
 */
export class ScheduleFromEventTime1764100000000 implements MigrationInterface {
  name = 'ScheduleFromEventTime1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE milestones.customer_snapshots ADD COLUMN scheduled_from timestamptz`);
    await db.query(`
      ALTER TABLE milestones.schedule
        ALTER COLUMN fire_at DROP NOT NULL,
        ADD COLUMN handled_through timestamptz`);
    // Wall time in Postgres: it only decides when a row may be pruned, long after any redelivery.
    await db.query(`
      CREATE TABLE milestones.applied_events (
        event_id   text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX applied_events_applied_at_idx ON milestones.applied_events (applied_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE milestones.applied_events`);
    await db.query(`DELETE FROM milestones.schedule WHERE fire_at IS NULL`);
    await db.query(`
      ALTER TABLE milestones.schedule
        DROP COLUMN handled_through,
        ALTER COLUMN fire_at SET NOT NULL`);
    await db.query(`ALTER TABLE milestones.customer_snapshots DROP COLUMN scheduled_from`);
  }
}
