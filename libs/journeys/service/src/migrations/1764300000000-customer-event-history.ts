import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What counts "since entry" (branches, `exitOn`, goals) is decided on the customer's events by
 * their `occurredAt`, not on the instance that happened to exist when each arrived: an event
 * may reach journeys before the milestone it follows (the milestones service is one hop
 * longer). So journeys keeps the customer's events narrowly (no personal data: type and time),
 * and an instance reads them from its entry on, its trigger's own cause excluded.
 * `instance_events` (event types per instance, as they arrived) is replaced by that history.
 */
export class CustomerEventHistory1764300000000 implements MigrationInterface {
  name = 'CustomerEventHistory1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE journeys.customer_events (
        customer_id text NOT NULL,
        event_id    text NOT NULL,
        event_type  text NOT NULL,
        occurred_at timestamptz NOT NULL,
        CONSTRAINT customer_events_pk PRIMARY KEY (customer_id, event_id)
      )`);
    await db.query(
      `CREATE INDEX customer_events_since_idx ON journeys.customer_events (customer_id, occurred_at)`,
    );
    // The pruning of events no instance can need any more scans by age.
    await db.query(`CREATE INDEX customer_events_age_idx ON journeys.customer_events (occurred_at)`);
    await db.query(`ALTER TABLE journeys.instances ADD COLUMN cause_event_id text`);
    await db.query(`DROP TABLE journeys.instance_events`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE journeys.instance_events (
        instance_id text NOT NULL,
        event_type  text NOT NULL,
        CONSTRAINT instance_events_pk PRIMARY KEY (instance_id, event_type)
      )`);
    await db.query(`ALTER TABLE journeys.instances DROP COLUMN cause_event_id`);
    await db.query(`DROP TABLE journeys.customer_events`);
  }
}
