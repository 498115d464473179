import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMilestonesTables1764000000000 implements MigrationInterface {
  name = 'CreateMilestonesTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // One row per milestone occurrence, keyed by its deterministic id: the at-most-once record.
    await db.query(`
      CREATE TABLE milestones.occurrences (
        occurrence_id  text PRIMARY KEY,
        milestone_key  text NOT NULL,
        customer_id    text NOT NULL,
        occurrence     text NOT NULL,
        reached_at     timestamptz NOT NULL,
        context        jsonb NOT NULL,
        cause_event_id text,
        published_at   timestamptz
      )`);
    await db.query(
      `CREATE INDEX occurrences_customer_idx ON milestones.occurrences (customer_id, reached_at DESC)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE milestones.occurrences`);
  }
}
