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
  type AppliedEvent,
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

/**
 * The reference for what goes out per event: a customer's events as they arrived, each eventId
 * once, applied one at a time (the currency fixed by the first money event to arrive). Each
 * event carries the profile right after it; however the same arrival is cut into batches, the
 * store must publish exactly these.
 */
export function snapshotsInArrivalOrder(
  customerId: string,
  arrival: readonly CanonicalEvent[],
): AppliedEvent[] {
  const seen = new Set<string>();
  const unique = arrival.filter((event) => {
    if (seen.has(event.eventId)) return false;
    seen.add(event.eventId);
    return true;
  });
  const { accepted } = rejectForeignCurrencies(unique, new Map());
  let profile = emptyProfile(customerId);
  let orders = emptyOrderBook();
  return accepted.flatMap((event) => {
    const result = applyEvents(profile, orders, [event]);
    ({ state: profile, orders } = result);
    return result.applied;
  });
}
