import {
  parseMoney,
  type KnownCurrencies,
  type OrderAggregates,
  type OrderBook,
} from '@mmp/ingestion-domain';
import { queryRows, type SqlExecutor } from '@mmp/persistence';
import { Injectable } from '@nestjs/common';

interface AggregateRow {
  customer_id: string;
  lifetime_orders: number;
  lifetime_value: string;
  currency: string | null;
  first_order_at: Date | null;
  last_order_at: Date | null;
}

/** A customer's stored orders (`orders`) and refund sums by orderId (`refunds`), as JSON from one statement. */
export interface OrderBookColumns {
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
export interface CurrencyColumns {
  order_currency: string | null;
  refund_currency: string | null;
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

/** CurrencyColumns of the profile `profileId` (a column or expression), each read through an index. */
export const CURRENCIES_OF = (profileId: string): string =>
  `(SELECT o.currency::text FROM ingestion.orders o
     WHERE o.customer_id = ${profileId} AND o.excluded_reason IS NULL LIMIT 1) AS order_currency,
   (SELECT r.currency::text FROM ingestion.refunds r WHERE r.customer_id = ${profileId} LIMIT 1) AS refund_currency`;

export const currenciesOf = (row: CurrencyColumns): KnownCurrencies => ({
  orders: row.order_currency,
  refunds: row.refund_currency,
});

/** An order row as JSON for OrderBookColumns (amounts as text: a JSON number would lose digits). */
export const ORDER_JSON = (alias: string): string =>
  `jsonb_build_object('orderId', ${alias}.order_id, 'total', ${alias}.total::text, 'currency', ${alias}.currency::text,
                      'placedAt', ${alias}.placed_at, 'eventId', ${alias}.event_id, 'excludedReason', ${alias}.excluded_reason)`;

/**
 * Orders and refunds (`ingestion.orders`, `ingestion.refunds`): the order attributes of SPEC
 * section 4 read from them, and the SQL fragments and mappers the other stores read them with.
 * They are written in the statements that store a batch (EventLogStore) and merge a visitor's
 * history (IdentityStore), with the events they come from.
 */
@Injectable()
export class OrderStore {
  async aggregatesOf(tx: SqlExecutor, customers: readonly string[]): Promise<Map<string, OrderAggregates>> {
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
}

export function toOrderBook(row: OrderBookColumns): OrderBook {
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

/** Postgres prints `60.25` or `60`; the platform always shows at least two decimals. */
function normalizeMoney(value: string): string {
  const [whole, fraction = ''] = value.split('.');
  return `${whole ?? '0'}.${fraction.padEnd(2, '0')}`;
}
