import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `GET /v1/customers?query=` finds a customer by the start of their id, email or phone among
 * millions. One index per key, in the C collation (byte order: `LIKE 'abc%'` is a range scan,
 * whatever the database's collation) with the customer id after it, so that each key's matches
 * are read in the order the answer pages them, a page at a time. Partial on live profiles:
 * erased ones are never found.
 */
export class CustomerSearchIndexes1764400000000 implements MigrationInterface {
  name = 'CustomerSearchIndexes1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `CREATE INDEX profiles_id_search_idx ON ingestion.profiles ((customer_id COLLATE "C")) WHERE erased_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX profiles_email_search_idx ON ingestion.profiles ((lower(traits ->> 'email') COLLATE "C"), customer_id)
        WHERE erased_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX profiles_phone_search_idx ON ingestion.profiles (((traits ->> 'phone') COLLATE "C"), customer_id)
        WHERE erased_at IS NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(
      `DROP INDEX ingestion.profiles_id_search_idx, ingestion.profiles_email_search_idx, ingestion.profiles_phone_search_idx`,
    );
  }
}
