import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAnalyticsTables1764000000000 implements MigrationInterface {
  name = 'CreateAnalyticsTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // One fact per message and status: redelivered events change nothing, counts stay exact.
    // `opened` and `clicked` facts are the first human open and click, written by tracking.
    await db.query(`
      CREATE TABLE analytics.message_facts (
        message_id    text NOT NULL,
        status        text NOT NULL,
        customer_id   text NOT NULL,
        journey_key   text NOT NULL,
        step_id       text NOT NULL,
        milestone_key text NOT NULL,
        template      text NOT NULL,
        variant       text,
        channel       text NOT NULL,
        reason        text,
        occurred_at   timestamptz NOT NULL,
        CONSTRAINT message_facts_pk PRIMARY KEY (message_id, status)
      )`);
    await db.query(
      `CREATE INDEX message_facts_journey_idx ON analytics.message_facts (journey_key, step_id, variant, status, occurred_at) INCLUDE (customer_id)`,
    );

    // Every open and click, repeats and machines included: the facts above keep only the first human one.
    await db.query(`
      CREATE TABLE analytics.touches (
        touch_id       bigint GENERATED ALWAYS AS IDENTITY,
        message_id     text NOT NULL,
        kind           text NOT NULL CHECK (kind IN ('open', 'click')),
        occurred_at    timestamptz NOT NULL,
        user_agent     text,
        machine_reason text,
        url            text,
        CONSTRAINT touches_pk PRIMARY KEY (touch_id)
      )`);
    await db.query(`CREATE INDEX touches_message_idx ON analytics.touches (message_id, kind)`);

    // Journey entries from journeys.entries.v1: the denominators of every rate.
    await db.query(`
      CREATE TABLE analytics.entries (
        instance_id   text NOT NULL,
        journey_key   text NOT NULL,
        customer_id   text NOT NULL,
        grp           text NOT NULL CHECK (grp IN ('treatment', 'holdout')),
        entered_at    timestamptz NOT NULL,
        goal_event    text,
        goal_ends_at  timestamptz,
        CONSTRAINT entries_pk PRIMARY KEY (instance_id)
      )`);
    await db.query(
      `CREATE INDEX entries_journey_idx ON analytics.entries (journey_key, grp) INCLUDE (customer_id, instance_id, entered_at, goal_ends_at)`,
    );
    await db.query(`CREATE INDEX entries_customer_idx ON analytics.entries (customer_id)`);

    // Every customer event, narrowly: a goal event may arrive before its entry, and a goal added
    // later still finds its events. Money is kept for revenue (order totals, refund amounts).
    await db.query(`
      CREATE TABLE analytics.customer_activity (
        event_id    text NOT NULL,
        customer_id text NOT NULL,
        type        text NOT NULL,
        occurred_at timestamptz NOT NULL,
        order_id    text,
        amount      numeric(17, 4),
        currency    text,
        CONSTRAINT customer_activity_pk PRIMARY KEY (event_id)
      )`);
    await db.query(
      `CREATE INDEX customer_activity_customer_idx ON analytics.customer_activity (customer_id, type, occurred_at)`,
    );

    // One conversion per entry; published_at stays null until analytics.conversions.v1 took it.
    await db.query(`
      CREATE TABLE analytics.conversions (
        instance_id  text NOT NULL,
        journey_key  text NOT NULL,
        customer_id  text NOT NULL,
        event_id     text NOT NULL,
        converted_at timestamptz NOT NULL,
        published_at timestamptz,
        CONSTRAINT conversions_pk PRIMARY KEY (instance_id)
      )`);
    await db.query(`CREATE INDEX conversions_customer_idx ON analytics.conversions (customer_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE analytics.conversions`);
    await db.query(`DROP TABLE analytics.customer_activity`);
    await db.query(`DROP TABLE analytics.entries`);
    await db.query(`DROP TABLE analytics.touches`);
    await db.query(`DROP TABLE analytics.message_facts`);
  }
}
