import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { InjectServiceDatabase, queryRows } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/**
 * The latest profile snapshot per customer (`delivery.customer_snapshots`), for previews by
 * customer id. The ledger's claim writes it, in the statement that records the requests.
 */
@Injectable()
export class SnapshotStore {
  constructor(@InjectServiceDatabase('delivery') private readonly db: DataSource) {}

  async snapshotOf(customerId: string): Promise<CustomerProfileSnapshot | undefined> {
    const [row] = await queryRows<{ profile: CustomerProfileSnapshot }>(
      this.db,
      `SELECT profile FROM delivery.customer_snapshots WHERE customer_id = $1`,
      [customerId],
    );
    return row?.profile;
  }
}
