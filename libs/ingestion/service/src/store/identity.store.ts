import { anonymousProfileId, type CanonicalEvent, type KnownCurrencies } from '@mmp/ingestion-domain';
import { queryRows, runSql } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import {
  CURRENCIES_OF,
  currenciesOf,
  ORDER_JSON,
  type CurrencyColumns,
  type OrderBookColumns,
} from './order.store';
import type { ProfileRow } from './profile.store';

/** The visitor's profile row as the merge deleted it, with the orders (and refunds) it moved. */
export interface MergedProfileRow extends ProfileRow, OrderBookColumns {
  into_customer_id: string;
  /** The visitor's orders in another currency than the customer's: moved, not counted. */
  excluded_orders: number;
  excluded_currencies: string[] | null;
}

export interface NewLink {
  anonymousId: string;
  customerId: string;
  /** The event that linked them: a rejected event links nothing. */
  eventId: string;
}

/**
 * Identities (`ingestion.identities`: which customer an anonymous id was linked to) and the
 * merge a new link makes: the visitor's events, orders and refunds move to the customer and
 * the visitor's profile row goes.
 */
@Injectable()
export class IdentityStore {
  /**
   * Locks the batch's anonymous ids (advisory, in a fixed order) and reads their stored links and
   * the currencies of their visitors' money, for fileEvents and the rules. Locked first, so an
   * anonymous-only batch and a linking batch for one visitor run one after the other and no
   * event is filed under a profile that a concurrent merge just emptied; and a visitor's profile
   * can be locked later in the transaction without a deadlock: any other batch for it waits here.
   */
  async lockIdentities(
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
  async mergeAnonymousHistories(
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
}
