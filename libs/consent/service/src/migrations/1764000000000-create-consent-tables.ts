import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateConsentTables1764000000000 implements MigrationInterface {
  name = 'CreateConsentTables1764000000000';

  async up(db: QueryRunner): Promise<void> {
    // Every change ever made, with who, when and where from: the proof of consent.
    await db.query(`
      CREATE TABLE consent.changes (
        change_id    text PRIMARY KEY,
        customer_id  text NOT NULL,
        channel      text NOT NULL,
        status       text NOT NULL,
        source       text NOT NULL,
        actor        text,
        changed_at   timestamptz NOT NULL,
        published_at timestamptz
      )`);
    await db.query(`CREATE INDEX changes_customer_idx ON consent.changes (customer_id, changed_at DESC)`);
    await db.query(
      `CREATE INDEX changes_unpublished_idx ON consent.changes (changed_at) WHERE published_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE consent.changes`);
  }
}
