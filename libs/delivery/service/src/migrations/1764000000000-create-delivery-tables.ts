import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDeliveryTables1764000000000 implements MigrationInterface {
  name = 'CreateDeliveryTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // One row per messageId, written before any provider call. `handed_over_at` is set just
    // before the call: a queued row with it set may have reached the provider, so it is never
    // sent again (failed/outcome_unknown), while one without it is safe to send.
    await db.query(`
      CREATE TABLE delivery.messages (
        message_id          text PRIMARY KEY,
        customer_id         text NOT NULL,
        journey_key         text NOT NULL,
        step_id             text NOT NULL,
        milestone_key       text NOT NULL,
        channel             text NOT NULL,
        template            text NOT NULL,
        variant             text,
        recipient           text,
        subject             text,
        body                text,
        status              text NOT NULL,
        reason              text,
        provider            text,
        provider_message_id text,
        created_at          timestamptz NOT NULL,
        handed_over_at      timestamptz,
        sent_at             timestamptz,
        updated_at          timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX messages_customer_idx ON delivery.messages (customer_id, created_at DESC)`);
    // Status changes waiting to reach messages.events.v1.
    await db.query(`
      CREATE TABLE delivery.status_outbox (
        event_id     text PRIMARY KEY,
        message_id   text NOT NULL,
        payload      jsonb NOT NULL,
        created_at   timestamptz NOT NULL,
        published_at timestamptz
      )`);
    await db.query(
      `CREATE INDEX status_outbox_pending_idx ON delivery.status_outbox (message_id) WHERE published_at IS NULL`,
    );
    // Delivery's own view of consent, kept from consent.changes.v1.
    await db.query(`
      CREATE TABLE delivery.consent_view (
        customer_id text NOT NULL,
        channel     text NOT NULL,
        status      text NOT NULL,
        changed_at  timestamptz NOT NULL,
        CONSTRAINT consent_view_pk PRIMARY KEY (customer_id, channel)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE delivery.consent_view, delivery.status_outbox, delivery.messages`);
  }
}
