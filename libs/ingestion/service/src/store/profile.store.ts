import type { CustomerEventV1, CustomerProfileSnapshot } from '@mmp/contracts';
import {
  noOrders,
  snapshotOf,
  type KnownCurrencies,
  type OrderBook,
  type ProfileState,
} from '@mmp/ingestion-domain';
import { InjectServiceDatabase, queryRows, runSql, withTransaction } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

import {
  CURRENCIES_OF,
  currenciesOf,
  ORDER_JSON,
  OrderStore,
  toOrderBook,
  type CurrencyColumns,
  type OrderBookColumns,
} from './order.store';

export interface ProfileRow {
  customer_id: string;
  traits: Record<string, unknown>;
  trait_versions: Record<string, string>;
  event_counts: Record<string, number>;
  registered_at: Date | null;
}

interface LockedProfileRow extends ProfileRow, OrderBookColumns, CurrencyColumns {
  erased: boolean;
}

/** A profile locked for the batch, with what the customer rules need. */
export interface LockedProfile extends ProfileState {
  erased: boolean;
  /** The currencies of the customer's stored orders and refunds. */
  currencies: KnownCurrencies;
  /** The orders and refunds stored before this batch. */
  book: OrderBook;
}

/**
 * Customer profiles (`ingestion.profiles`: traits and their versions, event counts, the erasure
 * tombstone): created and locked for a batch with what its rules need, saved after the fold,
 * read with their order attributes. `transaction()` opens the transaction a batch's statements
 * share.
 */
@Injectable()
export class ProfileStore {
  constructor(
    @InjectServiceDatabase('ingestion') private readonly db: DataSource,
    private readonly orders: OrderStore,
  ) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return withTransaction(this.db, work);
  }

  /** The profile, or undefined when the customer is unknown or was erased (SPEC section 6: 404 for both). */
  async findProfile(customerId: string): Promise<CustomerProfileSnapshot | undefined> {
    const rows = await queryRows<ProfileRow>(
      this.db,
      `SELECT customer_id, traits, trait_versions, event_counts, registered_at
         FROM ingestion.profiles WHERE customer_id = $1 AND erased_at IS NULL`,
      [customerId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const aggregates = await this.orders.aggregatesOf(this.db, [customerId]);
    return snapshotOf(toProfileState(row), aggregates.get(customerId) ?? noOrders);
  }

  /**
   * Creates missing profiles and locks them all in one statement, in id order so that concurrent
   * batches never deadlock (a no-op DO UPDATE locks an existing row and returns it), with what
   * the rules need: whether the customer was erased and the currency of their orders; and the
   * orders and refund sums stored before the batch, from which each event's profile is folded.
   * The statement is LOCK_PROFILES_SQL.
   */
  async lockProfiles(
    tx: EntityManager,
    customers: readonly string[],
    now: Date,
  ): Promise<Map<string, LockedProfile>> {
    const rows = await queryRows<LockedProfileRow>(tx, LOCK_PROFILES_SQL, [customers, now]);
    return new Map(
      rows.map((row) => [
        row.customer_id,
        {
          ...toProfileState(row),
          erased: row.erased,
          currencies: currenciesOf(row),
          book: toOrderBook(row),
        },
      ]),
    );
  }

  /**
   * Saves the batch's profiles and, in the same statement, keeps with the batch's unpublished row
   * (`unpublished_batches`, EventLogStore's) the messages its stored state cannot rebuild, for a
   * republish after a crash between commit and publish (see EventLogStore.unpublishedAmong): one
   * round trip for both on every batch.
   */
  async saveProfiles(
    tx: EntityManager,
    profiles: readonly ProfileState[],
    now: Date,
    held: { batchId: string | null; messages: readonly CustomerEventV1[] },
  ): Promise<void> {
    const heldMessages =
      held.batchId !== null && held.messages.length > 0
        ? JSON.stringify(Object.fromEntries(held.messages.map((message) => [message.eventId, message])))
        : null;
    if (profiles.length === 0 && heldMessages === null) return;
    await runSql(
      tx,
      `WITH held AS (
         UPDATE ingestion.unpublished_batches SET held_messages = $8::json WHERE batch_id = $7::bigint)
       UPDATE ingestion.profiles p
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
        heldMessages === null ? null : held.batchId,
        heldMessages,
      ],
    );
  }
}

export function toProfileState(row: ProfileRow): ProfileState {
  return {
    customerId: row.customer_id,
    traits: { values: row.traits, versions: row.trait_versions },
    eventCounts: row.event_counts,
    registeredAt: row.registered_at,
  };
}

/**
 * ProfileStore.lockProfiles: creates and locks the profiles `$1` (created at `$2`) and returns
 * them with their currencies and their stored orders and refund sums. Each subquery reads one
 * customer's rows through an index, also on tables without statistics (a spec checks the plan).
 */
export const LOCK_PROFILES_SQL = `INSERT INTO ingestion.profiles AS p (customer_id, created_at, updated_at)
       SELECT id, $2, $2 FROM unnest($1::text[]) AS c(id) ORDER BY id
       ON CONFLICT (customer_id) DO UPDATE SET updated_at = p.updated_at
       RETURNING p.customer_id, p.traits, p.trait_versions, p.event_counts, p.registered_at,
                 p.erased_at IS NOT NULL AS erased,
                 ${CURRENCIES_OF('p.customer_id')},
                 (SELECT coalesce(jsonb_agg(${ORDER_JSON('o')}), '[]') FROM ingestion.orders o
                   WHERE o.customer_id = p.customer_id) AS orders,
                 (SELECT coalesce(jsonb_object_agg(f.order_id, f.amount::text), '{}')
                    FROM (SELECT r.order_id, sum(r.amount) AS amount FROM ingestion.refunds r
                           WHERE r.customer_id = p.customer_id GROUP BY r.order_id) f) AS refunds`;
