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
        wait_reason     text,
        entered_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        exit_reason     text,
        goal_event      text,
        goal_ends_at    timestamptz,
        goal_reached_at timestamptz,
        -- Null until the entry reached journeys.entries.v1 (analytics' denominators).
        entry_published_at timestamptz,
        CONSTRAINT instances_wait_reason_ck CHECK (wait_reason IN ('wait', 'quiet_hours'))
      )`);
    // Re-entry while an instance is active is ignored: at most one live instance per journey and customer.
    await db.query(`
      CREATE UNIQUE INDEX instances_one_live_idx ON journeys.instances (journey_key, customer_id)
       WHERE status IN ('active', 'waiting')`);
    await db.query(
      `CREATE INDEX instances_unpublished_entry_idx ON journeys.instances (entered_at) WHERE entry_published_at IS NULL`,
    );
    await db.query(`CREATE INDEX instances_due_idx ON journeys.instances (wake_at) WHERE status = 'waiting'`);
    await db.query(
      `CREATE INDEX instances_customer_idx ON journeys.instances (customer_id, entered_at DESC)`,
    );
    // Goal bookkeeping looks up, per event, the customer's instances whose goal is still open.
    await db.query(`
      CREATE INDEX instances_open_goal_idx ON journeys.instances (customer_id, goal_event)
       WHERE goal_reached_at IS NULL AND goal_event IS NOT NULL`);
    // What journeys actually sent each customer, for frequency caps and same-day priority
    // collisions. A message delivery suppressed or failed afterwards is voided: it was not sent.
    await db.query(`
      CREATE TABLE journeys.send_ledger (
        message_id  text PRIMARY KEY,
        customer_id text NOT NULL,
        journey_key text NOT NULL,
        priority    int NOT NULL,
        channel     text NOT NULL,
        sent_at     timestamptz NOT NULL,
        local_day   date NOT NULL,
        voided_at   timestamptz
      )`);
    await db.query(
      `CREATE INDEX send_ledger_customer_idx ON journeys.send_ledger (customer_id, sent_at) WHERE voided_at IS NULL`,
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
    // The scheduler republishes what a crash stranded between a commit and its publish.
    await db.query(
      `CREATE INDEX outbox_stranded_idx ON journeys.outbox (created_at) WHERE published_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP TABLE journeys.send_ledger, journeys.outbox, journeys.instance_events, journeys.instances, journeys.journey_versions`,
    );
  }
}
