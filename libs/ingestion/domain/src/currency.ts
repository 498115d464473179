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

/**
 * Lifetime value is one sum, so it needs one currency: the customer's first accepted order or
 * refund fixes it (`known`, from the store, else the first to arrive in this batch, as if the
 * batch's events had come one by one) and any later one in another currency is rejected, with
 * the reason, instead of being added as if it were the same money.
 */
export function rejectForeignCurrencies(
  events: readonly CanonicalEvent[],
  known: ReadonlyMap<string, string>,
): { accepted: CanonicalEvent[]; rejected: CurrencyRejection[] } {
  const currencies = new Map(known);
  const rejectedIds = new Set<string>();
  const rejected: CurrencyRejection[] = [];
  for (const event of events) {
    const currency = currencyOf(event);
    if (currency === undefined) continue;
    const expected = currencies.get(event.customerId);
    if (expected === undefined) currencies.set(event.customerId, currency);
    else if (expected !== currency) {
      rejectedIds.add(event.eventId);
      rejected.push({
        event,
        path: 'properties.currency',
        message: `must be ${expected}, the currency of the customer's earlier orders (got ${currency})`,
      });
    }
  }
  return { accepted: events.filter((event) => !rejectedIds.has(event.eventId)), rejected };
}
