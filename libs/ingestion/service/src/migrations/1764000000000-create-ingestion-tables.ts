import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIngestionTables1764000000000 implements MigrationInterface {
  name = 'CreateIngestionTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Every accepted eventId, once: the idempotency record. `published_at` stays null until the
    // event reached customer.events.v1, so a crash between commit and publish republishes it.
    await db.query(`
      CREATE TABLE ingestion.events (
        event_id     text PRIMARY KEY,
        customer_id  text NOT NULL,
        anonymous_id text,
        type         text NOT NULL,
        occurred_at  timestamptz NOT NULL,
        received_at  timestamptz NOT NULL,
        triggerable  boolean NOT NULL,
        properties   jsonb NOT NULL,
        published_at timestamptz
      )`);
    await db.query(`CREATE INDEX events_customer_idx ON ingestion.events (customer_id, occurred_at)`);
    await db.query(
      `CREATE INDEX events_unpublished_idx ON ingestion.events (received_at) WHERE published_at IS NULL`,
    );
    await db.query(`
      CREATE TABLE ingestion.profiles (
        customer_id    text PRIMARY KEY,
        traits         jsonb NOT NULL DEFAULT '{}',
        trait_versions jsonb NOT NULL DEFAULT '{}',
        event_counts   jsonb NOT NULL DEFAULT '{}',
        registered_at  timestamptz,
        created_at     timestamptz NOT NULL,
        updated_at     timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE ingestion.orders (
        customer_id text NOT NULL,
        order_id    text NOT NULL,
        total       numeric(17, 4) NOT NULL,
        currency    char(3) NOT NULL,
        placed_at   timestamptz NOT NULL,
        event_id    text NOT NULL,
        CONSTRAINT orders_pk PRIMARY KEY (customer_id, order_id)
      )`);
    await db.query(`
      CREATE TABLE ingestion.refunds (
        event_id    text PRIMARY KEY,
        customer_id text NOT NULL,
        order_id    text NOT NULL,
        amount      numeric(17, 4) NOT NULL,
        currency    char(3) NOT NULL
      )`);
    await db.query(`CREATE INDEX refunds_order_idx ON ingestion.refunds (customer_id, order_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE ingestion.refunds, ingestion.orders, ingestion.profiles, ingestion.events`);
  }
}
