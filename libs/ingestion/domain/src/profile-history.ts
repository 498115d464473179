import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { CanonicalEvent } from './canonical-event';
import { rejectForeignCurrencies } from './currency';
import {
  applyEvents,
  byOccurrence,
  computeOrderAggregates,
  emptyOrderBook,
  emptyProfile,
  orderRecordsOf,
  snapshotOf,
} from './profile';

/**
 * The reference profile: a customer's whole history, each eventId once, applied in occurrence
 * order to an empty profile. Whatever order and batches the events arrived in, the stored
 * profile must equal this (the property tests hold the fold and the store to it).
 */
export function profileFromHistory(
  customerId: string,
  events: readonly CanonicalEvent[],
): CustomerProfileSnapshot {
  const seen = new Set<string>();
  const unique = [...events].sort(byOccurrence).filter((event) => {
    if (seen.has(event.eventId)) return false;
    seen.add(event.eventId);
    return true;
  });
  const { accepted } = rejectForeignCurrencies(unique, new Map());
  const orders = computeOrderAggregates(orderRecordsOf(accepted));
  return snapshotOf(applyEvents(emptyProfile(customerId), emptyOrderBook(), accepted).state, orders);
}
