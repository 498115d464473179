import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** The latest profile snapshot per customer (`delivery.customer_snapshots`), for previews by customer id. */
@Injectable()
export class SnapshotStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  /** Keeps the latest profile snapshot per customer (for previews by customer id). */
  async saveSnapshots(
    tx: EntityManager,
    snapshots: readonly CustomerProfileSnapshot[],
    now: Date,
  ): Promise<void> {
    const latest = new Map(snapshots.map((s) => [s.customerId, s]));
    if (latest.size === 0) return;
    await runSql(
      tx,
      `INSERT INTO delivery.customer_snapshots AS s (customer_id, profile, seen_at)
       SELECT c, p, $3 FROM unnest($1::text[], $2::jsonb[]) AS t(c, p)
        WHERE NOT EXISTS (SELECT 1 FROM delivery.erased_customers e WHERE e.customer_id = t.c)
       ON CONFLICT (customer_id) DO UPDATE SET profile = excluded.profile, seen_at = excluded.seen_at`,
      [[...latest.keys()], [...latest.values()].map((s) => JSON.stringify(s)), now],
    );
  }

  async snapshotOf(customerId: string): Promise<CustomerProfileSnapshot | undefined> {
    const [row] = await queryRows<{ profile: CustomerProfileSnapshot }>(
      this.db,
      `SELECT profile FROM delivery.customer_snapshots WHERE customer_id = $1`,
      [customerId],
    );
    return row?.profile;
  }
}
