import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateConsentTables1764000000000 implements MigrationInterface {
  name = 'CreateConsentTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Every change ever made, with who, when and where from: the proof of consent. A row with
    // an address is a suppression-list entry for that one address, not the customer's consent.
    await db.query(`
      CREATE TABLE consent.changes (
        change_id    text PRIMARY KEY,
        customer_id  text NOT NULL,
        channel      text NOT NULL,
        status       text NOT NULL,
        source       text NOT NULL,
        actor        text,
        changed_at   timestamptz NOT NULL,
        address      text,
        ip           text,
        user_agent   text,
        message_id   text,
        published_at timestamptz
      )`);
    await db.query(
      `CREATE INDEX changes_customer_idx ON consent.changes (customer_id, channel, changed_at DESC)`,
    );
    await db.query(
      `CREATE INDEX changes_unpublished_idx ON consent.changes (changed_at) WHERE published_at IS NULL`,
    );
    // The addresses consent has seen per customer, from the profiles on customer.events.v1: an
    // inbound SMS names only its phone number, and a bounce may not name its address.
    await db.query(`
      CREATE TABLE consent.contacts (
        customer_id text PRIMARY KEY,
        email       text,
        phone       text,
        seen_at     timestamptz NOT NULL
      )`);
    await db.query(`CREATE INDEX contacts_phone_idx ON consent.contacts (phone) WHERE phone IS NOT NULL`);
    // Customers erased (customer.erased): a late or replayed profile never brings their addresses back.
    await db.query(`
      CREATE TABLE consent.erased_customers (
        customer_id text PRIMARY KEY,
        erased_at   timestamptz NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE consent.erased_customers`);
    await db.query(`DROP TABLE consent.contacts`);
    await db.query(`DROP TABLE consent.changes`);
  }
}
