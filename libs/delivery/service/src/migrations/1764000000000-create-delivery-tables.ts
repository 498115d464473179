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
        updated_at          timestamptz NOT NULL,
        -- Retries: provider calls made, when the next is due, the rendered message it will send
        -- (cleared once the message is final), and what the provider last said.
        attempts            integer NOT NULL DEFAULT 0,
        next_attempt_at     timestamptz,
        pending_outbound    jsonb,
        last_error          text
      )`);
    await db.query(`CREATE INDEX messages_customer_idx ON delivery.messages (customer_id, created_at DESC)`);
    await db.query(
      `CREATE INDEX messages_retry_due_idx ON delivery.messages (next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
    );
    // Receipts find their message by the provider's id.
    await db.query(
      `CREATE INDEX messages_provider_message_idx ON delivery.messages (provider_message_id) WHERE provider_message_id IS NOT NULL`,
    );
    // Messages whose retries ran out: the dead-letter record, with the rendered message to replay by hand.
    await db.query(`
      CREATE TABLE delivery.dead_letters (
        message_id  text PRIMARY KEY,
        customer_id text NOT NULL,
        channel     text NOT NULL,
        provider    text NOT NULL,
        attempts    integer NOT NULL,
        last_error  text NOT NULL,
        outbound    jsonb NOT NULL,
        created_at  timestamptz NOT NULL
      )`);
    // Push tokens a provider reported unregistered: never used again (see the README).
    await db.query(`
      CREATE TABLE delivery.unregistered_push_tokens (
        token       text PRIMARY KEY,
        customer_id text NOT NULL,
        provider    text NOT NULL,
        reported_at timestamptz NOT NULL
      )`);
    await db.query(
      `CREATE INDEX unregistered_push_tokens_customer_idx ON delivery.unregistered_push_tokens (customer_id)`,
    );
    // The latest profile snapshot delivery saw per customer, for template previews by customer id.
    await db.query(`
      CREATE TABLE delivery.customer_snapshots (
        customer_id text PRIMARY KEY,
        profile     jsonb NOT NULL,
        seen_at     timestamptz NOT NULL
      )`);
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
    // Delivery's view of the suppression list (consent.changes.v1 changes with an address):
    // the latest status per address, in the form suppressionAddress() gives it.
    await db.query(`
      CREATE TABLE delivery.suppressed_addresses (
        channel     text NOT NULL,
        address     text NOT NULL,
        status      text NOT NULL,
        changed_at  timestamptz NOT NULL,
        -- Whose address it is, so that an erasure can remove it.
        customer_id text NOT NULL,
        CONSTRAINT suppressed_addresses_pk PRIMARY KEY (channel, address)
      )`);
    await db.query(
      `CREATE INDEX suppressed_addresses_customer_idx ON delivery.suppressed_addresses (customer_id)`,
    );
    // Customers erased (customer.erased on customer.events.v1): a request still in flight for
    // one is suppressed without storing its address, body or profile again.
    await db.query(`
      CREATE TABLE delivery.erased_customers (
        customer_id text PRIMARY KEY,
        erased_at   timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP TABLE delivery.customer_snapshots, delivery.unregistered_push_tokens, delivery.dead_letters,
                  delivery.consent_view, delivery.suppressed_addresses, delivery.erased_customers, delivery.status_outbox, delivery.messages`,
    );
  }
}
