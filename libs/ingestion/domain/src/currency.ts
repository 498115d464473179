import type { CanonicalEvent } from './canonical-event';

/** Order events carry money: a customer's orders and refunds are all in one currency. */
const MONEY_EVENT_TYPES: ReadonlySet<string> = new Set(['order.placed', 'order.refunded']);

export interface CurrencyRejection {
  event: CanonicalEvent;
  /** The field and the rule, as a validation issue names them. */
  path: string;
  message: string;
}

export function currencyOf(event: CanonicalEvent): string | undefined {
  if (!MONEY_EVENT_TYPES.has(event.type)) return undefined;
  const currency = event.properties['currency'];
  return typeof currency === 'string' ? currency : undefined;
}

/** The currencies a customer's stored money fixes: of their orders that count, and of their refunds. */
export interface KnownCurrencies {
  orders: string | null;
  refunds: string | null;
}

const noCurrency: KnownCurrencies = { orders: null, refunds: null };

/**
 * Lifetime value is one sum, so it needs one currency: the customer's first accepted order or
 * refund fixes it (`known`, from the store, else the first to arrive in this batch, as if the
 * batch's events had come one by one; an order's before a refund's) and any later one in another
 * currency is rejected, with the reason, instead of being added as if it were the same money.
 * `links` names, by the eventId that links it, a visitor whose history joins the customer there:
 * a customer without orders takes the visitor's currency, as the merge moves its orders in.
 */
export function rejectForeignCurrencies(
  events: readonly CanonicalEvent[],
  known: ReadonlyMap<string, KnownCurrencies>,
  links: ReadonlyMap<string, string> = new Map(),
): { accepted: CanonicalEvent[]; rejected: CurrencyRejection[] } {
  const currencies = new Map(known);
  const rejectedIds = new Set<string>();
  const rejected: CurrencyRejection[] = [];
  for (const event of events) {
    const mine = currencies.get(event.customerId) ?? noCurrency;
    const currency = currencyOf(event);
    if (currency !== undefined) {
      const expected = mine.orders ?? mine.refunds;
      if (expected !== null && expected !== currency) {
        rejectedIds.add(event.eventId);
        rejected.push({
          event,
          path: 'properties.currency',
          message: `must be ${expected}, the currency of the customer's earlier orders (got ${currency})`,
        });
        continue;
      }
      currencies.set(
        event.customerId,
        event.type === 'order.placed'
          ? { orders: mine.orders ?? currency, refunds: mine.refunds }
          : { orders: mine.orders, refunds: mine.refunds ?? currency },
      );
    }
    const visitor = links.get(event.eventId);
    if (visitor !== undefined) {
      const now = currencies.get(event.customerId) ?? noCurrency;
      const theirs = currencies.get(visitor) ?? noCurrency;
      currencies.set(event.customerId, {
        orders: now.orders ?? theirs.orders,
        refunds: now.refunds ?? theirs.refunds,
      });
    }
  }
  return { accepted: events.filter((event) => !rejectedIds.has(event.eventId)), rejected };
}
