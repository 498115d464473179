import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { MilestoneState, TimedInputs } from '@mmp/milestones-domain';
import { InjectServiceDatabase, queryRows, runSql, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface CustomerSnapshot extends TimedInputs {
  customerId: string;
}

interface SnapshotRow {
  customer_id: string;
  profile: CustomerProfileSnapshot;
  last_event_at: Record<string, string>;
  scheduled_from: Date | null;
}

/**
 * The milestones service's own view of customers: the latest profile, the latest time of each
 * event type and `scheduled_from` (`milestones.customer_snapshots`), and what each event-driven
 * milestone remembers (`milestones.milestone_states`).
 */
@Injectable()
export class CustomerViewStore {
  constructor(@InjectServiceDatabase('milestones') private readonly db: DataSource) {}

  /**
   * The customers' snapshots, locked until the transaction ends (in customer order, so two
   * batches sharing customers during a rebalance wait for each other instead of deadlocking):
   * a customer's events are applied by one transaction at a time, each on the last one's result.
   */
  async lockSnapshots(
    executor: SqlExecutor,
    customerIds: readonly string[],
  ): Promise<Map<string, CustomerSnapshot>> {
    if (customerIds.length === 0) return new Map();
    const rows = await queryRows<SnapshotRow>(
      executor,
      `SELECT customer_id, profile, last_event_at, scheduled_from FROM milestones.customer_snapshots
        WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE`,
      [customerIds],
    );
    return new Map(rows.map((row) => [row.customer_id, toSnapshot(row)]));
  }

  /**
   * A page of snapshots in customer id order, after `afterCustomerId` (keyset paging for
   * backfills). Only what scheduling reads comes back (dates, zone, attributes): `where` is
   * checked at firing time on the whole profile, and custom traits would only slow a 1M backfill.
   */
  async snapshotPage(afterCustomerId: string, limit: number): Promise<CustomerSnapshot[]> {
    const rows = await queryRows<SnapshotRow>(
      this.db,
      `SELECT customer_id, last_event_at, scheduled_from,
              jsonb_build_object(
                'customerId', customer_id,
                'traits', jsonb_strip_nulls(jsonb_build_object(
                  'birthday', profile->'traits'->'birthday', 'timezone', profile->'traits'->'timezone')),
                'attributes', profile->'attributes') AS profile
         FROM milestones.customer_snapshots
        WHERE customer_id > $1 ORDER BY customer_id LIMIT $2`,
      [afterCustomerId, limit],
    );
    return rows.map(toSnapshot);
  }

  async saveSnapshots(
    executor: SqlExecutor,
    snapshots: readonly CustomerSnapshot[],
    now: Date,
  ): Promise<void> {
    if (snapshots.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO milestones.customer_snapshots (customer_id, profile, last_event_at, scheduled_from, updated_at)
       SELECT customer_id, profile, last_event_at, scheduled_from, $5
         FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::timestamptz[])
           AS s(customer_id, profile, last_event_at, scheduled_from)
       ON CONFLICT (customer_id) DO UPDATE
         SET profile = EXCLUDED.profile, last_event_at = EXCLUDED.last_event_at,
             scheduled_from = EXCLUDED.scheduled_from, updated_at = EXCLUDED.updated_at`,
      [
        snapshots.map((s) => s.customerId),
        snapshots.map((s) => JSON.stringify(s.profile)),
        snapshots.map((s) => JSON.stringify(s.lastEventAt)),
        snapshots.map((s) => s.scheduledFrom),
        now,
      ],
    );
  }

  async states(
    executor: SqlExecutor,
    customerIds: readonly string[],
  ): Promise<Map<string, Map<string, MilestoneState>>> {
    const byCustomer = new Map<string, Map<string, MilestoneState>>();
    if (customerIds.length === 0) return byCustomer;
    const rows = await queryRows<{ customer_id: string; milestone_key: string; state: MilestoneState }>(
      executor,
      `SELECT customer_id, milestone_key, state FROM milestones.milestone_states WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    for (const row of rows) {
      const states = byCustomer.get(row.customer_id) ?? new Map<string, MilestoneState>();
      states.set(row.milestone_key, row.state);
      byCustomer.set(row.customer_id, states);
    }
    return byCustomer;
  }

  async saveStates(
    executor: SqlExecutor,
    states: readonly { customerId: string; milestoneKey: string; state: MilestoneState }[],
  ): Promise<void> {
    if (states.length === 0) return;
    await runSql(
      executor,
      `INSERT INTO milestones.milestone_states (customer_id, milestone_key, state)
       SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
       ON CONFLICT (customer_id, milestone_key) DO UPDATE SET state = EXCLUDED.state`,
      [
        states.map((s) => s.customerId),
        states.map((s) => s.milestoneKey),
        states.map((s) => JSON.stringify(s.state)),
      ],
    );
  }
}

function toSnapshot(row: SnapshotRow): CustomerSnapshot {
  return {
    customerId: row.customer_id,
    profile: row.profile,
    lastEventAt: row.last_event_at,
    scheduledFrom: row.scheduled_from,
  };
}
