import type { CustomerProfileSnapshot } from '@mmp/contracts';
import {
  aggregatesOf,
  anonymousProfileId,
  applyEvents,
  byOccurrence,
  emptyOrderBook,
  emptyProfile,
  noOrders,
  parseMoney,
  snapshotOf,
  type AppliedEvent,
  type CanonicalEvent,
  type KnownCurrencies,
  type MergedHistory,
  type OrderAggregates,
  type OrderBook,
  type ProfileState,
  rejectForeignCurrencies,
} from '@mmp/ingestion-domain';
import {
  InjectServiceDatabase,
  queryRows,
  runSql,
  withTransaction,
  type SqlExecutor,
} from '@mmp/persistence';
import { Injectable, Logger } from '@nestjs/common';
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

export interface EventRejection {
  eventId: string;
  /** The field and the rule broken, as validation issues name them. */
  path: string;
  message: string;
}

export interface IngestResult {
  /** Events seen for the first time, each with the profile right after it. */
  applied: AppliedEvent[];
  /** Events stored earlier whose publication never completed: publish them again. */
  unpublished: AppliedEvent[];
  /** eventIds that were already known (or repeated within the batch). */
  duplicates: string[];
  /** Valid events refused by a rule on the customer's state (a foreign currency, an erased customer); nothing was stored. */
  rejected: EventRejection[];
  /** The row that keeps `applied` marked unpublished until markPublished: null when nothing new was stored. */
  batchId: string | null;
}

/** A customer's stored orders (`orders`) and refund sums by orderId (`refunds`), as JSON from one statement. */
interface OrderBookColumns {
  orders: StoredOrderJson[];
  refunds: Record<string, string>;
}

interface StoredOrderJson {
  orderId: string;
  total: string;
  currency: string;
  placedAt: string;
  eventId: string;
  excludedReason: string | null;
}

/** The currencies of a profile's stored orders that count and of its refunds (KnownCurrencies). */
interface CurrencyColumns {
  order_currency: string | null;
  refund_currency: string | null;
}

interface LockedProfileRow extends ProfileRow, OrderBookColumns, CurrencyColumns {
  erased: boolean;
}

/** A profile locked for the batch, with what the customer rules need. */
interface LockedProfile extends ProfileState {
  erased: boolean;
  /** The currencies of the customer's stored orders and refunds. */
  currencies: KnownCurrencies;
  /** The orders and refunds stored before this batch. */
  book: OrderBook;
}

/** The visitor's profile row as the merge deleted it, with the orders (and refunds) it moved. */
interface MergedProfileRow extends ProfileRow, OrderBookColumns {
  into_customer_id: string;
  /** The visitor's orders in another currency than the customer's: moved, not counted. */
  excluded_orders: number;
  excluded_currencies: string[] | null;
}

interface NewLink {
  anonymousId: string;
  customerId: string;
  /** The event that linked them: a rejected event links nothing. */
  eventId: string;
}

/**
 * The order attributes of SPEC section 4 (as computeOrderAggregates defines them) of the
 * customers `$1` that have orders. Each customer's orders are read through the primary key, a
 * lateral subquery per id, and each order's refunds through their index. Filtering the whole
 * table with `customer_id = ANY($1)` instead planned a sequential scan of every order, per
 * batch, whenever the table had no statistics yet: all through a new install's first import,
 * until autovacuum analyzes it, each batch slower than the one before.
 */
export const ORDER_AGGREGATES_SQL = `
  SELECT c.customer_id, a.lifetime_orders, a.lifetime_value, a.currency, a.first_order_at, a.last_order_at
    FROM unnest($1::text[]) AS c(customer_id)
   CROSS JOIN LATERAL (
     SELECT count(*) AS orders,
            count(*) FILTER (WHERE coalesce(r.amount, 0) < o.total)::int AS lifetime_orders,
            trim_scale(sum(o.total - least(coalesce(r.amount, 0), o.total)))::text AS lifetime_value,
            min(o.currency) AS currency,
            min(o.placed_at) AS first_order_at,
            max(o.placed_at) AS last_order_at
       FROM ingestion.orders o
       LEFT JOIN LATERAL (
         SELECT sum(f.amount) AS amount
           FROM ingestion.refunds f
          WHERE f.customer_id = o.customer_id AND f.order_id = o.order_id
       ) r ON true
      WHERE o.customer_id = c.customer_id AND o.excluded_reason IS NULL
   ) a
   WHERE a.orders > 0`;

/**
 * Customer profiles, identities and the idempotency record of events. Every call works on a
 * whole batch in one transaction with a fixed number of set-based statements, whatever the
 * batch size.
 */
@Injectable()
export class ProfileStore {
  private readonly logger = new Logger(ProfileStore.name);

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
    if (unique.length === 0) return { applied: [], unpublished: [], duplicates, rejected: [], batchId: null };

    return withTransaction(this.db, async (tx) => {
      const { storedLinks, visitorCurrencies } = await this.lockIdentities(tx, unique);
      // Filed as if the events had come one by one: an event that links a visitor but is
      // refused links nothing, so the visitor's later events stay the visitor's. Refusals
      // depend on the filing, so the first refused link is set aside and the batch filed again
      // (rare: a link to an erased customer, or an order naming both ids in a foreign currency);
      // only then may a visitor's profile be locked in a statement of its own.
      const refusedLinks = new Set<string>();
      const locked = new Map<string, LockedProfile>();
      let filed: ReturnType<typeof fileEvents>;
      let rules: ReturnType<typeof applyCustomerRules>;
      for (;;) {
        filed = fileEvents(unique, storedLinks, refusedLinks);
        const unlocked = [...new Set(filed.resolved.map((e) => e.customerId))].filter(
          (id) => !locked.has(id),
        );
        if (unlocked.length > 0) {
          for (const [id, profile] of await this.lockProfiles(tx, unlocked.sort(), now))
            locked.set(id, profile);
        }
        rules = applyCustomerRules(filed.resolved, locked, filed.newLinks, visitorCurrencies);
        const refusedIds = new Set(rules.rejected.map((r) => r.eventId));
        const refused = filed.newLinks.find((link) => refusedIds.has(link.eventId));
        if (!refused) break;
        refusedLinks.add(refused.eventId);
      }
      const { accepted, rejected } = rules;
      const links = filed.newLinks;
      if (accepted.length === 0) return { applied: [], unpublished: [], duplicates, rejected, batchId: null };

      // One statement stores the batch: the events new to the idempotency record, the row that
      // keeps them marked unpublished, and the orders and refunds among them.
      const orders = accepted.filter((e) => e.type === 'order.placed');
      const refunds = accepted.filter((e) => e.type === 'order.refunded');
      const inserted = await queryRows<{ event_id: string; batch_id: string }>(
        tx,
        // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
        `WITH inserted AS (
                INSERT INTO ingestion.events
                  (event_id, customer_id, anonymous_id, type, occurred_at, received_at, triggerable, properties)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::boolean[], $8::jsonb[])
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id),
              pending AS (
                INSERT INTO ingestion.unpublished_batches (event_ids, created_at)
                SELECT array_agg(event_id), $9 FROM inserted HAVING count(*) > 0
                RETURNING batch_id),
              -- Two events for one order: the one that happened first is the order, whichever
              -- arrived first (ties by eventId, in code point order like byOccurrence).
              new_orders AS (
                INSERT INTO ingestion.orders AS s (customer_id, order_id, total, currency, placed_at, event_id)
                SELECT DISTINCT ON (o.customer_id, o.order_id) o.*
                  FROM unnest($10::text[], $11::text[], $12::numeric[], $13::text[], $14::timestamptz[], $15::text[])
                       AS o(customer_id, order_id, total, currency, placed_at, event_id)
                 WHERE o.event_id IN (SELECT event_id FROM inserted)
                 ORDER BY o.customer_id, o.order_id, o.placed_at, o.event_id COLLATE "C"
                ON CONFLICT (customer_id, order_id) DO UPDATE
                   SET total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at,
                       event_id = excluded.event_id, excluded_reason = NULL
                 WHERE excluded.placed_at < s.placed_at
                    OR (excluded.placed_at = s.placed_at AND excluded.event_id COLLATE "C" < s.event_id COLLATE "C")),
              new_refunds AS (
                INSERT INTO ingestion.refunds (event_id, customer_id, order_id, amount, currency)
                SELECT r.* FROM unnest($16::text[], $17::text[], $18::text[], $19::numeric[], $20::text[])
                       AS r(event_id, customer_id, order_id, amount, currency)
                 WHERE r.event_id IN (SELECT event_id FROM inserted)
                ON CONFLICT (event_id) DO NOTHING)
         SELECT i.event_id, (SELECT p.batch_id::text FROM pending p) AS batch_id FROM inserted i`,
        [
          accepted.map((e) => e.eventId),
          accepted.map((e) => e.customerId),
          accepted.map((e) => e.anonymousId),
          accepted.map((e) => e.type),
          accepted.map((e) => e.occurredAt),
          accepted.map((e) => e.receivedAt),
          accepted.map((e) => e.triggerable),
          accepted.map((e) => JSON.stringify(e.properties)),
          now,
          orders.map((e) => e.customerId),
          orders.map((e) => String(e.properties['orderId'])),
          orders.map((e) => String(e.properties['total'])),
          orders.map((e) => String(e.properties['currency'])),
          orders.map((e) => e.occurredAt),
          orders.map((e) => e.eventId),
          refunds.map((e) => e.eventId),
          refunds.map((e) => e.customerId),
          refunds.map((e) => String(e.properties['orderId'])),
          refunds.map((e) => String(e.properties['amount'])),
          refunds.map((e) => String(e.properties['currency'])),
        ],
      );
      const batchId = inserted[0]?.batch_id ?? null;
      const insertedIds = new Set(inserted.map((row) => row.event_id));
      const fresh = accepted.filter((e) => insertedIds.has(e.eventId));
      const known = accepted.filter((e) => !insertedIds.has(e.eventId));

      // Known events whose earlier publication did not complete come back to be published again.
      const leftovers =
        known.length === 0
          ? []
          : (
              await queryRows<StoredEventRow>(
                tx,
                `SELECT e.event_id, e.customer_id, e.anonymous_id, e.type, e.occurred_at, e.received_at,
                        e.triggerable, e.properties
                   FROM ingestion.events e
                   JOIN (SELECT DISTINCT unnest(event_ids) AS event_id FROM ingestion.unpublished_batches) u
                  USING (event_id)
                  WHERE e.event_id = ANY($1::text[])`,
                [known.map((e) => e.eventId)],
              )
            )
              .map(toCanonical)
              // Their arrival order is not kept: published in the order they happened.
              .sort(byOccurrence);
      const leftoverIds = new Set(leftovers.map((e) => e.eventId));
      duplicates.push(...known.filter((e) => !leftoverIds.has(e.eventId)).map((e) => e.eventId));
      if (fresh.length === 0 && leftovers.length === 0 && links.length === 0) {
        return { applied: [], unpublished: [], duplicates, rejected, batchId };
      }

      // Leftovers were applied when they were stored: they go out with the profile as stored.
      const unpublished = leftovers.map((event) => {
        const stored = locked.get(event.customerId);
        return {
          event,
          snapshot: stored
            ? snapshotOf(stored, aggregatesOf(stored.book))
            : snapshotOf(emptyProfile(event.customerId), noOrders),
        };
      });

      const mergedProfiles = await this.mergeAnonymousHistories(tx, links, now);
      for (const merged of mergedProfiles) {
        if (merged.excluded_orders === 0) continue;
        this.logger.warn(
          `merged ${merged.customer_id} into ${merged.into_customer_id}: ${merged.excluded_orders} order(s) in ` +
            `${(merged.excluded_currencies ?? []).join(', ')} kept but not counted, the customer's orders are in another currency`,
        );
      }
      // Each customer's events in arrival order, each with the profile right after it. A
      // visitor linked in this batch first takes its own events before the link, then its history
      // (moved by the merge, orders included) joins its customer at the event that linked them.
      const applied: AppliedEvent[] = [];
      const freshByCustomer = groupBy(fresh, (e) => e.customerId);
      const fold = (customerId: string, merges?: ReadonlyMap<string, MergedHistory>) => {
        const stored = locked.get(customerId);
        const result = applyEvents(
          stored ?? emptyProfile(customerId),
          stored?.book ?? emptyOrderBook(),
          freshByCustomer.get(customerId) ?? [],
          merges,
        );
        applied.push(...result.applied);
        return result.state;
      };
      const linkOf = new Map(links.map((link) => [anonymousProfileId(link.anonymousId), link.eventId]));
      const mergesByCustomer = new Map<string, Map<string, MergedHistory>>();
      for (const merged of mergedProfiles) {
        const visitor = freshByCustomer.has(merged.customer_id)
          ? fold(merged.customer_id)
          : toProfileState(merged);
        const merges = mergesByCustomer.get(merged.into_customer_id) ?? new Map<string, MergedHistory>();
        merges.set(linkOf.get(merged.customer_id) ?? '', { profile: visitor, orders: toOrderBook(merged) });
        mergesByCustomer.set(merged.into_customer_id, merges);
      }
      // The merged visitors' profiles are gone: only their customers' are saved.
      const mergedAway = new Set(mergedProfiles.map((merged) => merged.customer_id));
      const changed = [...new Set([...freshByCustomer.keys(), ...mergesByCustomer.keys()])]
        .filter((customerId) => !mergedAway.has(customerId))
        .sort();
      await this.saveProfiles(
        tx,
        changed.map((customerId) => fold(customerId, mergesByCustomer.get(customerId))),
        now,
      );

      return { applied, unpublished, duplicates, rejected, batchId };
    });
  }

  /**
   * Locks the batch's anonymous ids (advisory, in a fixed order) and reads their stored links and
   * the currencies of their visitors' money, for fileEvents and the rules. Locked first, so an
   * anonymous-only batch and a linking batch for one visitor run one after the other and no
   * event is filed under a profile that a concurrent merge just emptied; and a visitor's profile
   * can be locked later in the transaction without a deadlock: any other batch for it waits here.
   */
  private async lockIdentities(
    tx: EntityManager,
    events: readonly CanonicalEvent[],
  ): Promise<{
    /** The stored links of the batch's visitors, by anonymousId. */
    storedLinks: Map<string, string>;
    /** By anonymous profile id: the currencies of the visitor's stored money, for the link rules. */
    visitorCurrencies: Map<string, KnownCurrencies>;
  }> {
    const anonymousIds = [
      ...new Set(events.flatMap((e) => (e.anonymousId === null ? [] : [e.anonymousId]))),
    ].sort();
    if (anonymousIds.length === 0) return { storedLinks: new Map(), visitorCurrencies: new Map() };
    await runSql(
      tx,
      `SELECT pg_advisory_xact_lock(hashtext('ingestion.identity:' || a))
         FROM unnest($1::text[]) WITH ORDINALITY AS i(a, n) ORDER BY n`,
      [anonymousIds],
    );
    const rows = await queryRows<{ anonymous_id: string; customer_id: string | null } & CurrencyColumns>(
      tx,
      // 'anon:' || id is anonymousProfileId(id).
      `SELECT a.anonymous_id, i.customer_id, ${CURRENCIES_OF(`'anon:' || a.anonymous_id`)}
         FROM unnest($1::text[]) AS a(anonymous_id)
         LEFT JOIN ingestion.identities i USING (anonymous_id)`,
      [anonymousIds],
    );
    const storedLinks = new Map<string, string>();
    for (const row of rows) if (row.customer_id !== null) storedLinks.set(row.anonymous_id, row.customer_id);
    const visitorCurrencies = new Map(
      rows.map((row) => [anonymousProfileId(row.anonymous_id), currenciesOf(row)]),
    );
    return { storedLinks, visitorCurrencies };
  }

  /**
   * Records the new links and moves each linked anonymous profile's history to its customer,
   * in one statement: events, orders (an order the customer already has stays as it is) and
   * refunds change hands, and the anonymous profile row is deleted and returned so that its
   * traits and counts fold into the customer's. Only a link inserted now moves anything, so a
   * history is moved once and merging twice finds nothing to do.
   */
  private async mergeAnonymousHistories(
    tx: EntityManager,
    links: readonly NewLink[],
    now: Date,
  ): Promise<MergedProfileRow[]> {
    if (links.length === 0) return [];
    return queryRows<MergedProfileRow>(
      tx,
      // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
      `WITH linked AS (
              INSERT INTO ingestion.identities (anonymous_id, customer_id, linked_at)
              SELECT a, c, $3 FROM unnest($1::text[], $2::text[]) AS l(a, c)
              ON CONFLICT (anonymous_id) DO NOTHING
              -- 'anon:' || id is anonymousProfileId(id): where the visitor's history was filed.
              RETURNING 'anon:' || anonymous_id AS anon, customer_id),
            moved_events AS (
              UPDATE ingestion.events e SET customer_id = m.customer_id FROM linked m
               WHERE e.customer_id = m.anon),
            moved_refunds AS (
              UPDATE ingestion.refunds r SET customer_id = m.customer_id FROM linked m
               WHERE r.customer_id = m.anon
              RETURNING m.anon, r.order_id, r.amount),
            taken_orders AS (
              DELETE FROM ingestion.orders o USING linked m WHERE o.customer_id = m.anon
              RETURNING m.anon, m.customer_id, o.order_id, o.total, o.currency, o.placed_at, o.event_id,
                        o.excluded_reason),
            -- The customer's own orders set the currency (this statement sees them, not the moved
            -- ones): the visitor's orders in another currency move but do not count.
            decided AS (
              SELECT t.anon, t.customer_id, t.order_id, t.total, t.currency, t.placed_at, t.event_id,
                     coalesce(t.excluded_reason,
                              CASE WHEN t.currency <> (SELECT c.currency FROM ingestion.orders c
                                                        WHERE c.customer_id = t.customer_id AND c.excluded_reason IS NULL
                                                        LIMIT 1)
                                   THEN 'currency' END) AS excluded_reason
                FROM taken_orders t),
            -- An orderId both have is the order that happened first, as for arrivals (ties by eventId).
            moved_orders AS (
              INSERT INTO ingestion.orders AS s (customer_id, order_id, total, currency, placed_at, event_id, excluded_reason)
              SELECT DISTINCT ON (t.customer_id, t.order_id)
                     t.customer_id, t.order_id, t.total, t.currency, t.placed_at, t.event_id, t.excluded_reason
                FROM decided t
               ORDER BY t.customer_id, t.order_id, t.placed_at, t.event_id COLLATE "C"
              ON CONFLICT (customer_id, order_id) DO UPDATE
                 SET total = excluded.total, currency = excluded.currency, placed_at = excluded.placed_at,
                     event_id = excluded.event_id
               WHERE excluded.excluded_reason IS NULL AND s.excluded_reason IS NULL
                 AND (excluded.placed_at < s.placed_at
                      OR (excluded.placed_at = s.placed_at AND excluded.event_id COLLATE "C" < s.event_id COLLATE "C"))
              RETURNING customer_id, currency, excluded_reason)
       DELETE FROM ingestion.profiles p USING linked m
        WHERE p.customer_id = m.anon
       RETURNING m.customer_id AS into_customer_id, p.customer_id, p.traits, p.trait_versions,
                 p.event_counts, p.registered_at,
                 (SELECT array_agg(DISTINCT mo.currency::text) FROM moved_orders mo
                   WHERE mo.customer_id = m.customer_id AND mo.excluded_reason = 'currency') AS excluded_currencies,
                 (SELECT count(*)::int FROM moved_orders mo
                   WHERE mo.customer_id = m.customer_id AND mo.excluded_reason = 'currency') AS excluded_orders,
                 -- What moved, as the customer's fold takes it in at the link.
                 (SELECT coalesce(jsonb_agg(${ORDER_JSON('d')}), '[]') FROM decided d WHERE d.anon = m.anon) AS orders,
                 (SELECT coalesce(jsonb_object_agg(f.order_id, f.amount::text), '{}')
                    FROM (SELECT mr.order_id, sum(mr.amount) AS amount FROM moved_refunds mr
                           WHERE mr.anon = m.anon GROUP BY mr.order_id) f) AS refunds`,
      [links.map((l) => l.anonymousId), links.map((l) => l.customerId), now],
    );
  }

  /**
   * After a publish: drops the batch's unpublished row, and takes republished leftovers out of
   * the rows of their (failed) batches; a row left empty is dropped by the next call. The commit
   * does not wait for the WAL flush (synchronous_commit off for this transaction only): a mark
   * lost in a crash only publishes those events once more on redelivery, which consumers
   * deduplicate, and waiting for the disk here cost as much as the whole batch's transaction.
   */
  async markPublished(batchId: string | null, republished: readonly string[]): Promise<void> {
    if (batchId === null && republished.length === 0) return;
    await runSql(
      this.db,
      // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
      `WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
            done AS (
              DELETE FROM ingestion.unpublished_batches
               WHERE (batch_id = $1::bigint OR cardinality(event_ids) = 0) AND EXISTS (SELECT 1 FROM relaxed))
       UPDATE ingestion.unpublished_batches
          SET event_ids = ARRAY(SELECT id FROM unnest(event_ids) AS id WHERE NOT id = ANY($2::text[]))
        WHERE event_ids && $2::text[]`,
      [batchId, republished],
    );
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
    const aggregates = await this.orderAggregates(this.db, [customerId]);
    return snapshotOf(toProfileState(row), aggregates.get(customerId) ?? noOrders);
  }

  /**
   * Erases a customer's personal data: traits and their versions, every
   * stored event's properties and anonymousId, and the identity links. Counts, dates and orders
   * stay (aggregates, no personal data). The profile is kept as a tombstone (`erased_at`) so that
   * the id takes no new events, even one that was never seen before. Returns the profile as it
   * is left, for the erasure event; erasing twice is harmless.
   */
  async erase(customerId: string, now: Date): Promise<CustomerProfileSnapshot> {
    return withTransaction(this.db, async (tx) => {
      // The tombstone first: it waits for any batch holding the profile lock and makes later
      // batches refuse the customer, so the scrub below (a new statement, a new snapshot) sees
      // every event that will ever be stored for them.
      const rows = await queryRows<ProfileRow>(
        tx,
        `INSERT INTO ingestion.profiles AS p (customer_id, erased_at, created_at, updated_at)
         VALUES ($1, $2, $2, $2)
         ON CONFLICT (customer_id) DO UPDATE
            SET traits = '{}', trait_versions = '{}', erased_at = coalesce(p.erased_at, $2), updated_at = $2
         RETURNING customer_id, traits, trait_versions, event_counts, registered_at`,
        [customerId, now],
      );
      const row = rows[0];
      if (!row) throw new Error(`erasing ${customerId} returned no profile`);
      await runSql(
        tx,
        // Data-modifying WITH parts always run to completion, read or not (PostgreSQL docs, 7.8.4).
        `WITH unlinked AS (DELETE FROM ingestion.identities WHERE customer_id = $1)
         UPDATE ingestion.events SET properties = '{}', anonymous_id = NULL
          WHERE customer_id = $1 AND (properties <> '{}' OR anonymous_id IS NOT NULL)`,
        [customerId],
      );
      const aggregates = await this.orderAggregates(tx, [customerId]);
      return snapshotOf(toProfileState(row), aggregates.get(customerId) ?? noOrders);
    });
  }

  /**
   * Creates missing profiles and locks them all in one statement, in id order so that concurrent
   * batches never deadlock (a no-op DO UPDATE locks an existing row and returns it), with what
   * the rules need: whether the customer was erased and the currency of their orders; and the
   * orders and refund sums stored before the batch, from which each event's profile is folded.
   * The statement is LOCK_PROFILES_SQL.
   */
  private async lockProfiles(
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

  /** The order attributes of SPEC section 4, as computeOrderAggregates defines them. */
  private async orderAggregates(
    tx: SqlExecutor,
    customers: readonly string[],
  ): Promise<Map<string, OrderAggregates>> {
    const rows = await queryRows<AggregateRow>(tx, ORDER_AGGREGATES_SQL, [customers]);
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

/** CurrencyColumns of the profile `profileId` (a column or expression), each read through an index. */
const CURRENCIES_OF = (profileId: string): string =>
  `(SELECT o.currency::text FROM ingestion.orders o
     WHERE o.customer_id = ${profileId} AND o.excluded_reason IS NULL LIMIT 1) AS order_currency,
   (SELECT r.currency::text FROM ingestion.refunds r WHERE r.customer_id = ${profileId} LIMIT 1) AS refund_currency`;

const currenciesOf = (row: CurrencyColumns): KnownCurrencies => ({
  orders: row.order_currency,
  refunds: row.refund_currency,
});

/** An order row as JSON for OrderBookColumns (amounts as text: a JSON number would lose digits). */
const ORDER_JSON = (alias: string): string =>
  `jsonb_build_object('orderId', ${alias}.order_id, 'total', ${alias}.total::text, 'currency', ${alias}.currency::text,
                      'placedAt', ${alias}.placed_at, 'eventId', ${alias}.event_id, 'excludedReason', ${alias}.excluded_reason)`;

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

function toOrderBook(row: OrderBookColumns): OrderBook {
  return {
    orders: new Map(
      row.orders.map((order) => [
        order.orderId,
        {
          orderId: order.orderId,
          total: order.total,
          currency: order.currency,
          placedAt: new Date(order.placedAt),
          eventId: order.eventId,
          excludedReason: order.excludedReason,
        },
      ]),
    ),
    refunded: new Map(Object.entries(row.refunds).map(([orderId, amount]) => [orderId, parseMoney(amount)])),
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

/**
 * Files every event under its customer, in arrival order: its own customerId, else the customer
 * its anonymousId is linked to (stored, or linked by an earlier event of the batch), else the
 * anonymous profile. The first event carrying both ids links them, unless it is `refused`; a
 * later one naming another customer keeps its own customerId.
 */
function fileEvents(
  events: readonly CanonicalEvent[],
  storedLinks: ReadonlyMap<string, string>,
  refused: ReadonlySet<string>,
): { resolved: CanonicalEvent[]; newLinks: NewLink[] } {
  const links = new Map(storedLinks);
  const newLinks: NewLink[] = [];
  const resolved = events.map((event) => {
    if (event.anonymousId === null) return event;
    const linked = links.get(event.anonymousId);
    if (isAnonymousOnly(event)) return linked === undefined ? event : { ...event, customerId: linked };
    if (linked === undefined && !refused.has(event.eventId)) {
      links.set(event.anonymousId, event.customerId);
      newLinks.push({ anonymousId: event.anonymousId, customerId: event.customerId, eventId: event.eventId });
    }
    return event;
  });
  return { resolved, newLinks };
}

/** An event that names only a visitor: filed under its anonymous profile until the visitor is linked. */
function isAnonymousOnly(event: CanonicalEvent): boolean {
  return event.anonymousId !== null && event.customerId === anonymousProfileId(event.anonymousId);
}

/**
 * The rules that depend on what is stored: an erased customer takes no new events, and a
 * customer's orders and refunds stay in the currency of their earlier orders.
 */
function applyCustomerRules(
  events: readonly CanonicalEvent[],
  profiles: ReadonlyMap<string, LockedProfile>,
  links: readonly NewLink[],
  visitorCurrencies: ReadonlyMap<string, KnownCurrencies>,
): { accepted: CanonicalEvent[]; rejected: EventRejection[] } {
  const currencies = new Map(visitorCurrencies);
  for (const [customerId, profile] of profiles) currencies.set(customerId, profile.currencies);
  const rejected: EventRejection[] = [];
  const live = events.filter((event) => {
    if (!profiles.get(event.customerId)?.erased) return true;
    rejected.push({
      eventId: event.eventId,
      path: 'customerId',
      message: `customer ${event.customerId} was erased: events for this id are not accepted`,
    });
    return false;
  });
  const currencyCheck = rejectForeignCurrencies(
    live,
    currencies,
    new Map(links.map((link) => [link.eventId, anonymousProfileId(link.anonymousId)])),
  );
  for (const r of currencyCheck.rejected) {
    rejected.push({ eventId: r.event.eventId, path: r.path, message: r.message });
  }
  return { accepted: currencyCheck.accepted, rejected };
}
