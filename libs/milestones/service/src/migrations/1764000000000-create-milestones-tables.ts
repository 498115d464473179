import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMilestonesTables1764000000000 implements MigrationInterface {
  name = 'CreateMilestonesTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // One row per milestone occurrence, keyed by its deterministic id: the at-most-once record,
    // and the outbox: it keeps the message's profile until `published_at` says it went out.
    await db.query(`
      CREATE TABLE milestones.occurrences (
        occurrence_id  text PRIMARY KEY,
        milestone_key  text NOT NULL,
        customer_id    text NOT NULL,
        occurrence     text NOT NULL,
        reached_at     timestamptz NOT NULL,
        context        jsonb NOT NULL,
        cause_event_id text,
        profile        jsonb NOT NULL,
        published_at   timestamptz,
        -- Wall time before which nobody else republishes it: the publisher that recorded it has it.
        publish_after  timestamptz NOT NULL DEFAULT now() + interval '30 seconds'
      )`);
    await db.query(
      `CREATE INDEX occurrences_customer_idx ON milestones.occurrences (customer_id, reached_at DESC)`,
    );
    await db.query(
      `CREATE INDEX occurrences_unpublished_idx ON milestones.occurrences (publish_after) WHERE published_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX occurrences_unpublished_cause_idx ON milestones.occurrences (cause_event_id) WHERE published_at IS NULL`,
    );
    // The latest profile of every customer, and the latest time of each event type: what the
    // time-based milestones are computed from, and the "before" of a threshold crossing.
    await db.query(`
      CREATE TABLE milestones.customer_snapshots (
        customer_id   text PRIMARY KEY,
        profile       jsonb NOT NULL,
        last_event_at jsonb NOT NULL DEFAULT '{}'::jsonb,
        updated_at    timestamptz NOT NULL
      )`);
    // What an event-driven milestone remembers per customer (threshold crossings, a count window).
    await db.query(`
      CREATE TABLE milestones.milestone_states (
        customer_id   text NOT NULL,
        milestone_key text NOT NULL,
        state         jsonb NOT NULL,
        PRIMARY KEY (customer_id, milestone_key)
      )`);
    // The next firing of each time-based milestone per customer; the scheduler claims due rows.
    await db.query(`
      CREATE TABLE milestones.schedule (
        customer_id   text NOT NULL,
        milestone_key text NOT NULL,
        fire_at       timestamptz NOT NULL,
        occurrence    text NOT NULL,
        context       jsonb NOT NULL,
        PRIMARY KEY (customer_id, milestone_key)
      )`);
    await db.query(`CREATE INDEX schedule_fire_at_idx ON milestones.schedule (fire_at)`);
    // Which definition of each time-based milestone every customer has been scheduled for: a
    // milestone added or changed in the program is scheduled for everyone once, from then on.
    await db.query(`
      CREATE TABLE milestones.schedule_coverage (
        milestone_key text PRIMARY KEY,
        definition    text NOT NULL,
        covered_at    timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE milestones.schedule_coverage`);
    await db.query(`DROP TABLE milestones.schedule`);
    await db.query(`DROP TABLE milestones.milestone_states`);
    await db.query(`DROP TABLE milestones.customer_snapshots`);
    await db.query(`DROP TABLE milestones.occurrences`);
  }
}
