import type { CustomerEventV1, CustomerProfileSnapshot } from '@mmp/contracts';
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

/** Events in occurrence order, then eventId: the reference history's order (profileFromHistory). */
export function byOccurrence(a: CanonicalEvent, b: CanonicalEvent): number {
  return (
    a.occurredAt.getTime() - b.occurredAt.getTime() ||
    (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
  );
}

/** An order as the store keeps it (`ingestion.orders`): one per orderId, from the event that placed it. */
export interface StoredOrder {
  orderId: string;
  total: string;
  currency: string;
  placedAt: Date;
  eventId: string;
  /** Why the order is kept but does not count (`currency`: a merged visitor's order in another money). */
  excludedReason: string | null;
}

/**
 * A customer's orders and refunds as stored: orders by orderId, refund sums by orderId (a
 * refund may come before its order, and counts once the order is there).
 */
export interface OrderBook {
  orders: ReadonlyMap<string, StoredOrder>;
  refunded: ReadonlyMap<string, bigint>;
}

export const emptyOrderBook = (): OrderBook => ({ orders: new Map(), refunded: new Map() });

/** The order attributes of a book: computeOrderAggregates over the orders that count. */
export function aggregatesOf(book: OrderBook): OrderAggregates {
  const counted: OrderRecord[] = [];
  for (const order of book.orders.values()) {
    if (order.excludedReason !== null) continue;
    counted.push({
      orderId: order.orderId,
      total: order.total,
      currency: order.currency,
      placedAt: order.placedAt,
      refunded: formatMoney(book.refunded.get(order.orderId) ?? 0n),
    });
  }
  return computeOrderAggregates(counted);
}

/** The order that happened first is the order (ties by eventId, in code point order). */
const placedBefore = (a: StoredOrder, b: StoredOrder): boolean =>
  a.placedAt < b.placedAt || (a.placedAt.getTime() === b.placedAt.getTime() && a.eventId < b.eventId);

/** A visitor's history (stored, and its events of the batch before the link), merged into its customer at the event that linked them. */
export interface MergedHistory {
  profile: ProfileState;
  /** The visitor's orders as they moved: excludedReason says whether each counts for the customer. */
  orders: OrderBook;
}

export interface AppliedEvent {
  event: CanonicalEvent;
  /** The profile right after this event: the state before the batch and the batch's events up to it. */
  snapshot: CustomerProfileSnapshot;
}

/** What goes out on customer.events.v1 for an applied event. */
export function toCustomerEvent({ event, snapshot }: AppliedEvent): CustomerEventV1 {
  return {
    schemaVersion: 1,
    eventId: event.eventId,
    type: event.type,
    occurredAt: event.occurredAt.toISOString(),
    receivedAt: event.receivedAt.toISOString(),
    customerId: event.customerId,
    anonymousId: event.anonymousId,
    properties: event.properties,
    triggerable: event.triggerable,
    profile: snapshot,
  };
}

/**
 * Applies a customer's new events (each seen for the first time) to their stored state, in
 * arrival order, so each event carries the profile right after it, exactly as if the events had
 * come one by one: a batch hides no intermediate value (a threshold crossed, left and crossed
 * again). Traits are versioned and orders are kept by orderId, so the final state is the same
 * whatever the arrival order. `merges` holds, by the eventId that linked it, a visitor's history
 * moved into this customer in this batch: the events before that link do not see it.
 */
export function applyEvents(
  state: ProfileState,
  orders: OrderBook,
  events: readonly CanonicalEvent[],
  merges: ReadonlyMap<string, MergedHistory> = new Map(),
): { state: ProfileState; orders: OrderBook; applied: AppliedEvent[] } {
  let traits = state.traits;
  const eventCounts = { ...state.eventCounts };
  let registeredAt = state.registeredAt;
  const book = new OrderBookFold(orders);
  let aggregates = aggregatesOf(orders);
  const applied: AppliedEvent[] = [];
  const mergeIn = (merge: MergedHistory) => {
    const merged = mergeProfiles(
      { customerId: state.customerId, traits, eventCounts, registeredAt },
      merge.profile,
    );
    ({ traits, registeredAt } = merged);
    Object.assign(eventCounts, merged.eventCounts);
    book.merge(merge.orders);
  };
  // A merge whose link is not among the events joins before them.
  const eventIds = new Set(events.map((event) => event.eventId));
  for (const [linkId, merge] of merges) if (!eventIds.has(linkId)) mergeIn(merge);
  if (merges.size > 0) aggregates = aggregatesOf(book.view());
  for (const event of events) {
    const merge = merges.get(event.eventId);
    if (merge) mergeIn(merge);
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
    // Recomputed only when the orders changed: most events leave them as they were.
    if (book.apply(event) || merge) aggregates = aggregatesOf(book.view());
    applied.push({
      event,
      snapshot: snapshotOf(
        { customerId: state.customerId, traits, eventCounts: { ...eventCounts }, registeredAt },
        aggregates,
      ),
    });
  }
  return {
    state: { customerId: state.customerId, traits, eventCounts, registeredAt },
    orders: book.current(),
    applied,
  };
}

/**
 * An order book changed event by event, with the rules the store's statements apply to the
 * same rows (`ON CONFLICT` in `EventLogStore.storeBatch` and the merge), so the book after the last
 * event is what the store holds after the batch.
 */
class OrderBookFold {
  private readonly orders: Map<string, StoredOrder>;
  private readonly refunded: Map<string, bigint>;
  /** OrderIds that came, excluded, with a visitor merged in this batch. */
  private readonly mergedExcluded = new Set<string>();

  constructor(start: OrderBook) {
    this.orders = new Map(start.orders);
    this.refunded = new Map(start.refunded);
  }

  /** The book as it is now, to read before the next change. */
  view(): OrderBook {
    return { orders: this.orders, refunded: this.refunded };
  }

  current(): OrderBook {
    return { orders: new Map(this.orders), refunded: new Map(this.refunded) };
  }

  /** Whether the event changed the orders or refunds. */
  apply(event: CanonicalEvent): boolean {
    const orderId = String(event.properties['orderId']);
    if (event.type === 'order.placed') {
      const placed: StoredOrder = {
        orderId,
        total: String(event.properties['total']),
        currency: String(event.properties['currency']),
        placedAt: event.occurredAt,
        eventId: event.eventId,
        excludedReason: null,
      };
      const existing = this.orders.get(orderId);
      // The store inserts the batch's orders before it merges a visitor's: the customer's own
      // order replaces a visitor's excluded one that the merge of this batch brought.
      const replaces =
        !existing ||
        placedBefore(placed, existing) ||
        (existing.excludedReason !== null && this.mergedExcluded.has(orderId));
      if (!replaces) return false;
      this.orders.set(orderId, placed);
      this.mergedExcluded.delete(orderId);
      return true;
    }
    if (event.type === 'order.refunded') {
      const amount = parseMoney(String(event.properties['amount']));
      this.refunded.set(orderId, (this.refunded.get(orderId) ?? 0n) + amount);
      return true;
    }
    return false;
  }

  /**
   * A visitor's orders and refunds moved in: an orderId both have is the order that happened
   * first, unless either does not count (then the customer's stays).
   */
  merge(from: OrderBook): void {
    for (const order of from.orders.values()) {
      const existing = this.orders.get(order.orderId);
      const replaces =
        !existing ||
        (order.excludedReason === null && existing.excludedReason === null && placedBefore(order, existing));
      if (!replaces) continue;
      this.orders.set(order.orderId, order);
      if (order.excludedReason !== null) this.mergedExcluded.add(order.orderId);
    }
    for (const [orderId, amount] of from.refunded) {
      this.refunded.set(orderId, (this.refunded.get(orderId) ?? 0n) + amount);
    }
  }
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
