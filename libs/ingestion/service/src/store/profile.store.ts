import type { CustomerProfileSnapshot } from '@mmp/contracts';
import {
  applyEvents,
  emptyProfile,
  noOrders,
  snapshotOf,
  type AppliedEvent,
  type CanonicalEvent,
  type OrderAggregates,
  type ProfileState,
} from '@mmp/ingestion-domain';
import {
  InjectServiceDatabase,
  queryRows,
  runSql,
  withTransaction,
  type SqlExecutor,
} from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

interface ProfileRow {
  customer_id: string;
  traits: Record<string, unknown>;
  trait_versions: Record<string, string>;
  event_counts: Record<string, number>;
  registered_at: Date | null;
}

interface AggregateRow {
  customer_id: string;
  lifetime_orders: number;
  lifetime_value: string;
  currency: string | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
}

interface StoredEventRow {
  event_id: string;
  customer_id: string;
  anonymous_id: string | null;
  type: string;
  occurred_at: Date;
  received_at: Date;
  triggerable: boolean;
  properties: Record<string, unknown>;
}

export interface IngestResult {
  /** Events seen for the first time, each with the profile right after it. */
  applied: AppliedEvent[];
  /** Events stored earlier whose publication never completed: publish them again. */
  unpublished: AppliedEvent[];
  /** eventIds that were already known (or repeated within the batch). */
  duplicates: string[];
}

/**
 * Customer profiles and the idempotency record of events. Every call works on a whole batch
 * in one transaction with a fixed number of set-based statements, whatever the batch size.
 */
@Injectable()
export class ProfileStore {
  constructor(@InjectServiceDatabase('ingestion') private readonly db: DataSource) {}

  async ingest(batch: readonly CanonicalEvent[], now: Date): Promise<IngestResult> {
    const seen = new Set<string>();
    const unique: CanonicalEvent[] = [];
    const duplicates: string[] = [];
    for (const event of batch) {
      if (seen.has(event.eventId)) duplicates.push(event.eventId);
      else {
        seen.add(event.eventId);
        unique.push(event);
      }
    }
    if (unique.length === 0) return { applied: [], unpublished: [], duplicates };

    return withTransaction(this.db, async (tx) => {
      const inserted = await queryRows<{ event_id: string }>(
        tx,
        `INSERT INTO ingestion.events
           (event_id, customer_id, anonymous_id, type, occurred_at, received_at, triggerable, properties)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[], $8::jsonb[])
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
        [
          unique.map((e) => e.eventId),
          unique.map((e) => e.customerId),
          unique.map((e) => e.anonymousId),
          unique.map((e) => e.type),
          unique.map((e) => e.occurredAt),
          unique.map((e) => e.receivedAt),
          unique.map((e) => e.triggerable),
          unique.map((e) => JSON.stringify(e.properties)),
        ],
      );
      const insertedIds = new Set(inserted.map((row) => row.event_id));
      const fresh = unique.filter((e) => insertedIds.has(e.eventId));
      const known = unique.filter((e) => !insertedIds.has(e.eventId));

      // Known events whose earlier publication did not complete come back to be published again.
      const leftovers =
        known.length === 0
          ? []
          : (
              await queryRows<StoredEventRow>(
                tx,
                `SELECT event_id, customer_id, anonymous_id, type, occurred_at, received_at, triggerable, properties
                   FROM ingestion.events
                  WHERE event_id = ANY($1::text[]) AND published_at IS NULL`,
                [known.map((e) => e.eventId)],
              )
            ).map(toCanonical);
      const leftoverIds = new Set(leftovers.map((e) => e.eventId));
      duplicates.push(...known.filter((e) => !leftoverIds.has(e.eventId)).map((e) => e.eventId));

      const customers = [...new Set([...fresh, ...leftovers].map((e) => e.customerId))].sort();
      if (customers.length === 0) return { applied: [], unpublished: [], duplicates };

      await this.recordOrders(tx, fresh);
      const profiles = await this.lockProfiles(tx, customers, now);
      const aggregates = await this.orderAggregates(tx, customers);

      const applied: AppliedEvent[] = [];
      const updated: ProfileState[] = [];
      const freshByCustomer = groupBy(fresh, (e) => e.customerId);
      for (const customerId of customers) {
        const events = freshByCustomer.get(customerId);
        if (!events) continue;
        const result = applyEvents(
          profiles.get(customerId) ?? emptyProfile(customerId),
          events,
          aggregates.get(customerId) ?? noOrders,
        );
        applied.push(...result.applied);
        updated.push(result.state);
        profiles.set(customerId, result.state);
      }
      await this.saveProfiles(tx, updated, now);

      const unpublished = leftovers.map((event) => ({
        event,
        snapshot: snapshotOf(
          profiles.get(event.customerId) ?? emptyProfile(event.customerId),
          aggregates.get(event.customerId) ?? noOrders,
        ),
      }));
      return { applied, unpublished, duplicates };
    });
  }

  async markPublished(eventIds: readonly string[], now: Date): Promise<void> {
    if (eventIds.length === 0) return;
    await runSql(this.db, `UPDATE ingestion.events SET published_at = $2 WHERE event_id = ANY($1::text[])`, [
      eventIds,
      now,
    ]);
  }

  async findProfile(customerId: string): Promise<CustomerProfileSnapshot | undefined> {
    const rows = await queryRows<ProfileRow>(
      this.db,
      `SELECT customer_id, traits, trait_versions, event_counts, registered_at
         FROM ingestion.profiles WHERE customer_id = $1`,
      [customerId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const aggregates = await this.orderAggregates(this.db, [customerId]);
    return snapshotOf(toProfileState(row), aggregates.get(customerId) ?? noOrders);
  }

  private async recordOrders(tx: EntityManager, events: readonly CanonicalEvent[]): Promise<void> {
    const orders = events.filter((e) => e.type === 'order.placed');
    if (orders.length > 0) {
      await runSql(
        tx,
        `INSERT INTO ingestion.orders (customer_id, order_id, total, currency, placed_at, event_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::timestamptz[], $6::text[])
         ON CONFLICT (customer_id, order_id) DO NOTHING`,
        [
          orders.map((e) => e.customerId),
          orders.map((e) => String(e.properties['orderId'])),
          orders.map((e) => String(e.properties['total'])),
          orders.map((e) => String(e.properties['currency'])),
          orders.map((e) => e.occurredAt),
          orders.map((e) => e.eventId),
        ],
      );
    }
    const refunds = events.filter((e) => e.type === 'order.refunded');
    if (refunds.length > 0) {
      await runSql(
        tx,
        `INSERT INTO ingestion.refunds (event_id, customer_id, order_id, amount, currency)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[])
         ON CONFLICT (event_id) DO NOTHING`,
        [
          refunds.map((e) => e.eventId),
          refunds.map((e) => e.customerId),
          refunds.map((e) => String(e.properties['orderId'])),
          refunds.map((e) => String(e.properties['amount'])),
          refunds.map((e) => String(e.properties['currency'])),
        ],
      );
    }
  }

  /** Creates missing profiles and locks them all, in id order so concurrent batches never deadlock. */
  private async lockProfiles(
    tx: EntityManager,
    customers: readonly string[],
    now: Date,
  ): Promise<Map<string, ProfileState>> {
    await runSql(
      tx,
      `INSERT INTO ingestion.profiles (customer_id, created_at, updated_at)
       SELECT unnest($1::text[]), $2, $2
       ON CONFLICT (customer_id) DO NOTHING`,
      [customers, now],
    );
    const rows = await queryRows<ProfileRow>(
      tx,
      `SELECT customer_id, traits, trait_versions, event_counts, registered_at
         FROM ingestion.profiles
        WHERE customer_id = ANY($1::text[])
        ORDER BY customer_id
        FOR UPDATE`,
      [customers],
    );
    return new Map(rows.map((row) => [row.customer_id, toProfileState(row)]));
  }

  /** The order attributes of SPEC section 4, as computeOrderAggregates defines them. */
  private async orderAggregates(
    tx: SqlExecutor,
    customers: readonly string[],
  ): Promise<Map<string, OrderAggregates>> {
    const rows = await queryRows<AggregateRow>(
      tx,
      `SELECT o.customer_id,
              count(*) FILTER (WHERE coalesce(r.amount, 0) < o.total)::int AS lifetime_orders,
              trim_scale(sum(o.total - least(coalesce(r.amount, 0), o.total)))::text AS lifetime_value,
              min(o.currency) AS currency,
              min(o.placed_at) AS first_order_at,
              max(o.placed_at) AS last_order_at
         FROM ingestion.orders o
         LEFT JOIN (
           SELECT customer_id, order_id, sum(amount) AS amount
             FROM ingestion.refunds
            WHERE customer_id = ANY($1::text[])
            GROUP BY customer_id, order_id
         ) r USING (customer_id, order_id)
        WHERE o.customer_id = ANY($1::text[])
        GROUP BY o.customer_id`,
      [customers],
    );
    return new Map(
      rows.map((row) => [
        row.customer_id,
        {
          lifetimeOrders: row.lifetime_orders,
          lifetimeValue: normalizeMoney(row.lifetime_value),
          currency: row.currency,
          firstOrderAt: row.first_order_at,
          lastOrderAt: row.last_order_at,
        },
      ]),
    );
  }

  private async saveProfiles(tx: EntityManager, profiles: readonly ProfileState[], now: Date): Promise<void> {
    if (profiles.length === 0) return;
    await runSql(
      tx,
      `UPDATE ingestion.profiles p
          SET traits = v.traits, trait_versions = v.trait_versions, event_counts = v.event_counts,
              registered_at = v.registered_at, updated_at = $6
         FROM unnest($1::text[], $2::jsonb[], $3::jsonb[], $4::jsonb[], $5::timestamptz[])
              AS v(customer_id, traits, trait_versions, event_counts, registered_at)
        WHERE p.customer_id = v.customer_id`,
      [
        profiles.map((p) => p.customerId),
        profiles.map((p) => JSON.stringify(p.traits.values)),
        profiles.map((p) => JSON.stringify(p.traits.versions)),
        profiles.map((p) => JSON.stringify(p.eventCounts)),
        profiles.map((p) => p.registeredAt),
        now,
      ],
    );
  }
}

function toProfileState(row: ProfileRow): ProfileState {
  return {
    customerId: row.customer_id,
    traits: { values: row.traits, versions: row.trait_versions },
    eventCounts: row.event_counts,
    registeredAt: row.registered_at,
  };
}

function toCanonical(row: StoredEventRow): CanonicalEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    customerId: row.customer_id,
    anonymousId: row.anonymous_id,
    traits: undefined,
    properties: row.properties,
    triggerable: row.triggerable,
  };
}

/** Postgres prints `60.25` or `60`; the platform always shows at least two decimals. */
function normalizeMoney(value: string): string {
  const [whole, fraction = ''] = value.split('.');
  return `${whole ?? '0'}.${fraction.padEnd(2, '0')}`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
