import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order can be stored and still not count: a visitor's order in another currency than the
 * customer's own orders, merged in when the visitor is linked, stays in the history (nothing of
 * a merge is lost) but lifetime value is one sum in one currency. `excluded_reason` says why.
 */
export class OrdersExcludedFromAggregates1764100000000 implements MigrationInterface {
  name = 'OrdersExcludedFromAggregates1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ingestion.orders ADD COLUMN excluded_reason text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ingestion.orders DROP COLUMN excluded_reason`);
  }
}
