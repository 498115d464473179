import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIngestionTables1764000000000 implements MigrationInterface {
  name = 'CreateIngestionTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Every accepted eventId, once: the idempotency record.
    await db.query(`
      CREATE TABLE ingestion.events (
        event_id     text PRIMARY KEY,
        customer_id  text NOT NULL,
        anonymous_id text,
        type         text NOT NULL,
        occurred_at  timestamptz NOT NULL,
        received_at  timestamptz NOT NULL,
        triggerable  boolean NOT NULL,
        properties   jsonb NOT NULL
      )`);
    await db.query(`CREATE INDEX events_customer_idx ON ingestion.events (customer_id, occurred_at)`);
    // The events of a committed batch not yet on customer.events.v1: one narrow row per batch,
    // deleted once published, so a crash between commit and publish republishes them on
    // redelivery. A row per batch rather than a flag per event: marking 1000 wide event rows
    // published rewrote them and their indexes, as costly as storing them.
    await db.query(`
      CREATE TABLE ingestion.unpublished_batches (
        batch_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_ids  text[] NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await db.query(`
      CREATE TABLE ingestion.profiles (
        customer_id    text PRIMARY KEY,
        traits         jsonb NOT NULL DEFAULT '{}',
        trait_versions jsonb NOT NULL DEFAULT '{}',
        event_counts   jsonb NOT NULL DEFAULT '{}',
        registered_at  timestamptz,
        -- Set by DELETE /v1/customers/{id}: traits are gone, aggregates stay, new events are rejected.
        erased_at      timestamptz,
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
    // Which customer an anonymous visitor turned out to be: the first link wins, for good, so
    // later anonymous-only events go straight to the customer and a merge happens once.
    await db.query(`
      CREATE TABLE ingestion.identities (
        anonymous_id text PRIMARY KEY,
        customer_id  text NOT NULL,
        linked_at    timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX identities_customer_idx ON ingestion.identities (customer_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP TABLE ingestion.identities, ingestion.unpublished_batches, ingestion.refunds, ingestion.orders, ingestion.profiles, ingestion.events`,
    );
  }
}
