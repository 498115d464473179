import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAnalyticsTables1764000000000 implements MigrationInterface {
  name = 'CreateAnalyticsTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // One fact per message and status: redelivered events change nothing, counts stay exact.
    await db.query(`
      CREATE TABLE analytics.message_facts (
        message_id  text NOT NULL,
        status      text NOT NULL,
        journey_key text NOT NULL,
        step_id     text NOT NULL,
        variant     text,
        channel     text NOT NULL,
        reason      text,
        occurred_at timestamptz NOT NULL,
        CONSTRAINT message_facts_pk PRIMARY KEY (message_id, status)
      )`);
    await db.query(`CREATE INDEX message_facts_journey_idx ON analytics.message_facts (journey_key, status)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE analytics.message_facts`);
  }
}
