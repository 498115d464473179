import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/customers?query=` finds a customer by the start of their id, email or phone among
 * millions: one prefix-capable index per key (text_pattern_ops serves `LIKE 'abc%'` whatever the
 * collation), partial on live profiles since erased ones are never found.
 */
export class CustomerSearchIndexes1764400000000 implements MigrationInterface {
  name = 'CustomerSearchIndexes1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX profiles_id_search_idx ON ingestion.profiles (customer_id text_pattern_ops) WHERE erased_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX profiles_email_search_idx ON ingestion.profiles (lower(traits ->> 'email') text_pattern_ops) WHERE erased_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX profiles_phone_search_idx ON ingestion.profiles ((traits ->> 'phone') text_pattern_ops) WHERE erased_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP INDEX ingestion.profiles_id_search_idx, ingestion.profiles_email_search_idx, ingestion.profiles_phone_search_idx`,
    );
  }
}
