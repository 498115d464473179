import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateJourneysTables1764000000000 implements MigrationInterface {
  name = 'CreateJourneysTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Every journey definition an instance ever ran on: in-flight customers finish on the
    // version they entered, whatever the program says now.
    await db.query(`
      CREATE TABLE journeys.journey_versions (
        journey_key text NOT NULL,
        version     text NOT NULL,
        definition  jsonb NOT NULL,
        created_at  timestamptz NOT NULL,
        CONSTRAINT journey_versions_pk PRIMARY KEY (journey_key, version)
      )`);
    await db.query(`
      CREATE TABLE journeys.instances (
        instance_id     text PRIMARY KEY,
        journey_key     text NOT NULL,
        journey_version text NOT NULL,
        customer_id     text NOT NULL,
        occurrence_id   text NOT NULL,
        milestone       jsonb NOT NULL,
        profile         jsonb NOT NULL,
        grp             text NOT NULL,
        status          text NOT NULL,
        step_index      int NOT NULL,
        wake_at         timestamptz,
        entered_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        exit_reason     text
      )`);
    // Re-entry while an instance is active is ignored: at most one live instance per journey and customer.
    await db.query(`
      CREATE UNIQUE INDEX instances_one_live_idx ON journeys.instances (journey_key, customer_id)
       WHERE status IN ('active', 'waiting')`);
    await db.query(`CREATE INDEX instances_due_idx ON journeys.instances (wake_at) WHERE status = 'waiting'`);
    await db.query(
      `CREATE INDEX instances_customer_idx ON journeys.instances (customer_id, entered_at DESC)`,
    );
    await db.query(`
      CREATE TABLE journeys.instance_events (
        instance_id text NOT NULL,
        event_type  text NOT NULL,
        CONSTRAINT instance_events_pk PRIMARY KEY (instance_id, event_type)
      )`);
    // Messages a step asked for, kept until they reached messages.requested.v1.
    await db.query(`
      CREATE TABLE journeys.outbox (
        message_id   text PRIMARY KEY,
        instance_id  text NOT NULL,
        payload      jsonb NOT NULL,
        created_at   timestamptz NOT NULL,
        published_at timestamptz
      )`);
    await db.query(
      `CREATE INDEX outbox_pending_idx ON journeys.outbox (instance_id) WHERE published_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP TABLE journeys.outbox, journeys.instance_events, journeys.instances, journeys.journey_versions`,
    );
  }
}
