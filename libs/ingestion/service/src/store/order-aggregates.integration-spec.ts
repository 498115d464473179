import { openServiceDatabase } from '@mmp/persistence';
import { useTestDatabase } from '@mmp/test-harness';
import type { DataSource } from 'typeorm';
import { ingestionMigrations } from '../migrations';
import { ORDER_AGGREGATES_SQL } from './order.store';
import { LOCK_PROFILES_SQL } from './profile.store';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scannedRelations(node: PlanNode): string[] {
  const own = node['Relation Name'] ? [`${node['Node Type']} on ${node['Relation Name']}`] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scannedRelations)];
}

/**
 * The aggregates statement runs once per ingested batch. On a table that has grown since its
 * last ANALYZE (a new install's first import, before autovacuum gets to it) it must still read
 * only the batch's customers' orders, not every order: that made each batch slower than the last.
 */
describe('order aggregates statement', () => {
  // A database of this file's own: the migrations create the `ingestion` schema by that name.
  const database = useTestDatabase();
  let db: DataSource;

  beforeAll(async () => {
    db = await openServiceDatabase({
      schema: 'ingestion',
      migrations: ingestionMigrations,
      url: database.url,
    });
    // Statistics as a first import has them: none, and autovacuum kept away for the test.
    await db.query(`ALTER TABLE ingestion.orders SET (autovacuum_enabled = false)`);
    await db.query(`ALTER TABLE ingestion.refunds SET (autovacuum_enabled = false)`);
    await db.query(
      `INSERT INTO ingestion.orders (customer_id, order_id, total, currency, placed_at, event_id)
       SELECT 'c' || i, 'o' || i || '-' || j, 19.90, 'USD', now(), 'e' || i || '-' || j
         FROM generate_series(1, 20000) i, generate_series(1, 2) j`,
    );
    await db.query(
      `INSERT INTO ingestion.refunds (event_id, customer_id, order_id, amount, currency)
       SELECT 'r' || i, 'c' || i, 'o' || i || '-1', 5, 'USD' FROM generate_series(1, 20000, 7) i`,
    );
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('reads a batch of customers through the keys, not by scanning every order, before any ANALYZE', async () => {
    const analyzed = await db.query<{ last: Date | null }[]>(
      `SELECT coalesce(last_analyze, last_autoanalyze) AS last FROM pg_stat_user_tables
        WHERE schemaname = 'ingestion' AND relname = 'orders'`,
    );
    expect(analyzed).toEqual([{ last: null }]);

    const batch = Array.from({ length: 250 }, (_, i) => `c${1000 + i * 13}`);
    const explained = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `EXPLAIN (FORMAT JSON) ${ORDER_AGGREGATES_SQL}`,
      [batch],
    );
    const scans = scannedRelations(explained[0]!['QUERY PLAN'][0]!.Plan);

    expect(scans.filter((scan) => scan.startsWith('Seq Scan'))).toEqual([]);
    expect(scans).toContainEqual(expect.stringMatching(/^(Index|Index Only|Bitmap Heap) Scan on orders$/));
  });

  it("reads the locked profiles' orders and refunds through the keys too, before any ANALYZE", async () => {
    const batch = Array.from({ length: 250 }, (_, i) => `c${1000 + i * 13}`).sort();
    const explained = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `EXPLAIN (FORMAT JSON) ${LOCK_PROFILES_SQL}`,
      [batch, new Date()],
    );
    const scans = scannedRelations(explained[0]!['QUERY PLAN'][0]!.Plan);

    expect(scans.filter((scan) => scan.startsWith('Seq Scan'))).toEqual([]);
    expect(scans).toContainEqual(expect.stringMatching(/^(Index|Index Only|Bitmap Heap) Scan on orders$/));
    expect(scans).toContainEqual(expect.stringMatching(/^(Index|Index Only|Bitmap Heap) Scan on refunds$/));
  });

  it('gives each customer of the batch their own orders and refunds, and no row to a customer without orders', async () => {
    // Every customer has two orders of 19.90; c1, c8, c15, ... got 5 back on their first.
    const rows = await db.query<{ customer_id: string; lifetime_orders: number; lifetime_value: string }[]>(
      `SELECT customer_id, lifetime_orders, lifetime_value FROM (${ORDER_AGGREGATES_SQL}) a ORDER BY customer_id`,
      [['c8', 'c9', 'nobody']],
    );

    expect(rows).toEqual([
      { customer_id: 'c8', lifetime_orders: 2, lifetime_value: '34.8' },
      { customer_id: 'c9', lifetime_orders: 2, lifetime_value: '39.8' },
    ]);
  });
});
