import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type { CanonicalEvent } from './canonical-event';
import { formatMoney, parseMoney } from './money';
import { applyPushToken, applyTraits, mergeTraitStates, type TraitState } from './traits';

/** What ingestion keeps per customer besides orders. */
export interface ProfileState {
  customerId: string;
  traits: TraitState;
  eventCounts: Record<string, number>;
  registeredAt: Date | null;
}

/** Attributes derived from the customer's orders and refunds (SPEC section 4). */
export interface OrderAggregates {
  lifetimeOrders: number;
  lifetimeValue: string;
  currency: string | null;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
}

export const noOrders: OrderAggregates = {
  lifetimeOrders: 0,
  lifetimeValue: '0.00',
  currency: null,
  firstOrderAt: null,
  lastOrderAt: null,
};

export interface OrderRecord {
  orderId: string;
  total: string;
  currency: string;
  placedAt: Date;
  /** Sum of refunds for this order so far. */
  refunded: string;
}

/**
 * The reference definition of the order attributes: an order counts while it is not fully
 * refunded, and the value is totals minus refunds (a refund never takes an order below zero).
 * The ingestion store computes the same with one SQL aggregate; tests hold the two together.
 */
export function computeOrderAggregates(orders: readonly OrderRecord[]): OrderAggregates {
  if (orders.length === 0) return noOrders;
  let value = 0n;
  let count = 0;
  let first: Date | null = null;
  let last: Date | null = null;
  for (const order of orders) {
    const total = parseMoney(order.total);
    const refunded = parseMoney(order.refunded);
    value += total - (refunded < total ? refunded : total);
    if (refunded < total) count += 1;
    if (!first || order.placedAt < first) first = order.placedAt;
    if (!last || order.placedAt > last) last = order.placedAt;
  }
  return {
    lifetimeOrders: count,
    lifetimeValue: formatMoney(value),
    currency: orders[0]?.currency ?? null,
    firstOrderAt: first,
    lastOrderAt: last,
  };
}

export const emptyProfile = (customerId: string): ProfileState => ({
  customerId,
  traits: { values: {}, versions: {} },
  eventCounts: {},
  registeredAt: null,
});

/** Events in the order they are applied within a batch: by occurrence, then eventId. */
export function byOccurrence(a: CanonicalEvent, b: CanonicalEvent): number {
  return (
    a.occurredAt.getTime() - b.occurredAt.getTime() ||
    (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
  );
}

export interface AppliedEvent {
  event: CanonicalEvent;
  /** The profile right after this event (order attributes are those after the whole batch). */
  snapshot: CustomerProfileSnapshot;
}

/**
 * Applies a customer's new events (each seen for the first time) to their stored state.
 * Counts and traits are exact per event; order aggregates are the batch's final ones, computed
 * by the store over all orders, so they are right whatever the arrival order.
 */
export function applyEvents(
  state: ProfileState,
  events: readonly CanonicalEvent[],
  orders: OrderAggregates,
): { state: ProfileState; applied: AppliedEvent[] } {
  let traits = state.traits;
  const eventCounts = { ...state.eventCounts };
  let registeredAt = state.registeredAt;
  const applied: AppliedEvent[] = [];
  for (const event of [...events].sort(byOccurrence)) {
    traits = applyTraits(traits, event.traits, event.occurredAt, event.eventId);
    const token = pushTokenOf(event);
    if (token !== undefined) {
      traits = applyPushToken(
        traits,
        token,
        event.type === PUSH_TOKEN_REGISTERED,
        event.occurredAt,
        event.eventId,
      );
    }
    eventCounts[event.type] = (eventCounts[event.type] ?? 0) + 1;
    if (event.type === 'customer.registered' && (!registeredAt || event.occurredAt < registeredAt)) {
      registeredAt = event.occurredAt;
    }
    applied.push({
      event,
      snapshot: snapshotOf(
        { customerId: state.customerId, traits, eventCounts: { ...eventCounts }, registeredAt },
        orders,
      ),
    });
  }
  return { state: { customerId: state.customerId, traits, eventCounts, registeredAt }, applied };
}

export const PUSH_TOKEN_REGISTERED = 'push.token.registered';
export const PUSH_TOKEN_UNREGISTERED = 'push.token.unregistered';

/** The token a push token event adds or removes (the schema guarantees a non-empty string). */
function pushTokenOf(event: CanonicalEvent): string | undefined {
  if (event.type !== PUSH_TOKEN_REGISTERED && event.type !== PUSH_TOKEN_UNREGISTERED) return undefined;
  const token = event.properties['token'];
  return typeof token === 'string' && token.length > 0 ? token : undefined;
}

/** The profile as downstream services see it (customer.events.v1, GET /v1/customers/{id}). */
export function snapshotOf(profile: ProfileState, orders: OrderAggregates): CustomerProfileSnapshot {
  return {
    customerId: profile.customerId,
    traits: { ...profile.traits.values },
    attributes: {
      lifetimeOrders: orders.lifetimeOrders,
      lifetimeValue: orders.lifetimeValue,
      currency: orders.currency,
      firstOrderAt: orders.firstOrderAt?.toISOString() ?? null,
      lastOrderAt: orders.lastOrderAt?.toISOString() ?? null,
      registeredAt: profile.registeredAt?.toISOString() ?? null,
      eventCounts: { ...profile.eventCounts },
    },
  };
}

/**
 * One customer's profile out of two (an anonymous visitor's merged into the customer it turned
 * out to be): traits by their versions, counts added, the earliest registration. Each event is
 * stored under exactly one profile, so adding counts never counts an event twice.
 */
export function mergeProfiles(into: ProfileState, from: ProfileState): ProfileState {
  const eventCounts = { ...into.eventCounts };
  for (const [type, count] of Object.entries(from.eventCounts)) {
    eventCounts[type] = (eventCounts[type] ?? 0) + count;
  }
  const registeredAt =
    into.registeredAt && from.registeredAt
      ? new Date(Math.min(into.registeredAt.getTime(), from.registeredAt.getTime()))
      : (into.registeredAt ?? from.registeredAt);
  return {
    customerId: into.customerId,
    traits: mergeTraitStates(into.traits, from.traits),
    eventCounts,
    registeredAt,
  };
}

/** The orders and refunds among events, as the store records them: one order per orderId, refunds summed. */
export function orderRecordsOf(events: readonly CanonicalEvent[]): OrderRecord[] {
  const orders = new Map<string, Omit<OrderRecord, 'refunded'>>();
  const refunded = new Map<string, bigint>();
  for (const event of [...events].sort(byOccurrence)) {
    const orderId = String(event.properties['orderId']);
    if (event.type === 'order.placed' && !orders.has(orderId)) {
      orders.set(orderId, {
        orderId,
        total: String(event.properties['total']),
        currency: String(event.properties['currency']),
        placedAt: event.occurredAt,
      });
    } else if (event.type === 'order.refunded') {
      refunded.set(orderId, (refunded.get(orderId) ?? 0n) + parseMoney(String(event.properties['amount'])));
    }
  }
  return [...orders.values()].map((order) => ({
    ...order,
    refunded: formatMoney(refunded.get(order.orderId) ?? 0n),
  }));
}
