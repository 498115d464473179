import fc from 'fast-check';
import type { CanonicalEvent } from './canonical-event';
import { currencyOf, rejectForeignCurrencies, type KnownCurrencies } from './currency';
import {
  applyEvents,
  computeOrderAggregates,
  emptyOrderBook,
  emptyProfile,
  mergeProfiles,
  orderRecordsOf,
  snapshotOf,
  type AppliedEvent,
  type OrderBook,
  type ProfileState,
} from './profile';
import { profileFromHistory, snapshotsInArrivalOrder } from './profile-history';

const RECEIVED = new Date('2027-06-01T00:00:00Z');
const CUSTOMERS = ['c-1', 'c-2', 'c-3'];

function canonical(
  partial: Partial<CanonicalEvent> & Pick<CanonicalEvent, 'eventId' | 'type' | 'customerId'>,
): CanonicalEvent {
  return {
    occurredAt: new Date('2027-05-01T00:00:00Z'),
    receivedAt: RECEIVED,
    anonymousId: null,
    traits: undefined,
    properties: {},
    triggerable: true,
    ...partial,
  };
}

/**
 * A customer's history: registrations and updates setting and clearing traits, orders with
 * their own ids and several naming one orderId, partial and full refunds (possibly of orders
 * that arrive later, possibly more than the order), custom events, and push tokens registered
 * and unregistered (a few tokens, so the same one comes and goes). With `currencies`, some
 * orders and refunds are in another currency than the customer's first.
 */
const historyArbitrary = ({ currencies = ['USD'] }: { currencies?: string[] } = {}) =>
  fc
    .array(
      fc.record({
        customer: fc.constantFrom(...CUSTOMERS),
        kind: fc.constantFrom(
          'registered',
          'updated',
          'order',
          'order',
          'sameOrder',
          'refund',
          'refund',
          'viewed',
          'token-registered',
          'token-unregistered',
        ),
        minute: fc.integer({ min: 0, max: 60 * 24 * 30 }),
        firstName: fc.option(fc.constantFrom('Ann', 'Bob', 'Cy'), { nil: null }),
        city: fc.option(fc.constantFrom('Oslo', 'Lima'), { nil: null }),
        cents: fc.integer({ min: 1, max: 100_000 }),
        order: fc.integer({ min: 0, max: 5 }),
        token: fc.constantFrom('tok-a', 'tok-b', 'tok-c'),
        // Few distinct minutes for tokens, so registrations and unregistrations often tie on occurredAt.
        sameMinute: fc.boolean(),
        currency: fc.constantFrom(...currencies),
      }),
      { minLength: 1, maxLength: 40 },
    )
    .map((specs) =>
      specs.map((spec, index): CanonicalEvent => {
        const base = {
          eventId: `e-${index}`,
          customerId: spec.customer,
          occurredAt: new Date(Date.parse('2027-05-01T00:00:00Z') + spec.minute * 60_000),
        };
        const amount = (spec.cents / 100).toFixed(2);
        const orderId = `${spec.customer}-o-${index}`;
        switch (spec.kind) {
          case 'registered':
            return canonical({ ...base, type: 'customer.registered', traits: { firstName: spec.firstName } });
          case 'updated':
            return canonical({
              ...base,
              type: 'customer.updated',
              traits: { city: spec.city, firstName: spec.firstName },
            });
          case 'order':
            return canonical({
              ...base,
              type: 'order.placed',
              properties: { orderId, total: amount, currency: spec.currency },
            });
          case 'sameOrder':
            // One orderId named by several events: the one that happened first is the order.
            return canonical({
              ...base,
              type: 'order.placed',
              properties: { orderId: `${spec.customer}-o-same`, total: amount, currency: spec.currency },
            });
          case 'refund':
            // Refunds name an order of the same customer by a small number: some exist, some never do.
            return canonical({
              ...base,
              type: 'order.refunded',
              properties: {
                orderId: spec.order === 0 ? `${spec.customer}-o-same` : `${spec.customer}-o-${spec.order}`,
                amount,
                currency: spec.currency,
              },
            });
          case 'viewed':
            return canonical({ ...base, type: 'product.viewed', properties: { sku: 'sku-1' } });
          case 'token-registered':
          case 'token-unregistered': {
            const occurredAt = spec.sameMinute ? new Date('2027-05-02T00:00:00Z') : base.occurredAt;
            return spec.kind === 'token-registered'
              ? canonical({
                  ...base,
                  occurredAt,
                  type: 'push.token.registered',
                  properties: { token: spec.token, platform: 'ios' },
                })
              : canonical({
                  ...base,
                  occurredAt,
                  type: 'push.token.unregistered',
                  properties: { token: spec.token, reason: 'provider_unregistered' },
                });
          }
        }
      }),
    );

interface Ingested {
  /** Every event accepted, in arrival order, with the profile it went out with. */
  published: AppliedEvent[];
  profiles: Map<string, { state: ProfileState; orders: OrderBook }>;
}

/**
 * What the store does, batch by batch, in arrival order: each eventId once, the currency rules
 * against the stored orders, then each customer's new events folded onto their stored profile
 * and orders.
 */
function ingestInBatches(batches: readonly (readonly CanonicalEvent[])[]): Ingested {
  const stored = new Set<string>();
  const published: AppliedEvent[] = [];
  const profiles = new Map<string, { state: ProfileState; orders: OrderBook }>();
  const money: CanonicalEvent[] = [];
  for (const batch of batches) {
    const fresh: CanonicalEvent[] = [];
    for (const event of batch) {
      if (stored.has(event.eventId)) continue;
      stored.add(event.eventId);
      fresh.push(event);
    }
    // The store knows a customer's currency from the orders that count and from their refunds.
    const known = new Map<string, KnownCurrencies>();
    for (const [customerId, { orders }] of profiles) {
      const counted = [...orders.orders.values()].find((order) => order.excludedReason === null);
      const refund = money.find((e) => e.customerId === customerId && e.type === 'order.refunded');
      known.set(customerId, {
        orders: counted?.currency ?? null,
        refunds: (refund && currencyOf(refund)) ?? null,
      });
    }
    const { accepted } = rejectForeignCurrencies(fresh, known);
    money.push(...accepted.filter((e) => currencyOf(e) !== undefined));
    for (const customerId of new Set(accepted.map((e) => e.customerId))) {
      const before = profiles.get(customerId);
      const result = applyEvents(
        before?.state ?? emptyProfile(customerId),
        before?.orders ?? emptyOrderBook(),
        accepted.filter((e) => e.customerId === customerId),
      );
      published.push(...result.applied);
      profiles.set(customerId, { state: result.state, orders: result.orders });
    }
  }
  return { published, profiles };
}

/** Per customer, the events in the order they went out (what a consumer of one partition sees). */
function byCustomer(published: readonly AppliedEvent[]): Map<string, AppliedEvent[]> {
  const groups = new Map<string, AppliedEvent[]>();
  for (const applied of published) {
    groups.set(applied.event.customerId, [...(groups.get(applied.event.customerId) ?? []), applied]);
  }
  return groups;
}

/** A shuffled arrival with some events delivered twice, cut into batches. */
const arrivalArbitrary = (events: readonly CanonicalEvent[]) =>
  fc
    .tuple(
      fc.shuffledSubarray([...events], { minLength: events.length, maxLength: events.length }),
      fc.subarray([...events]),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 20 }),
    )
    .chain(([shuffled, repeated, sizes]) =>
      fc
        .shuffledSubarray([...shuffled, ...repeated], {
          minLength: shuffled.length + repeated.length,
          maxLength: shuffled.length + repeated.length,
        })
        .map((arrival) => cut(arrival, sizes)),
    );

function cut<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const batches: T[][] = [];
  let start = 0;
  for (let i = 0; start < items.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    batches.push(items.slice(start, start + size));
    start += size;
  }
  return batches;
}

describe('the profile fold', () => {
  it('gives every customer the profile of their sorted history, whatever the arrival order, batches and duplicates', () => {
    fc.assert(
      fc.property(
        historyArbitrary().chain((events) => fc.tuple(fc.constant(events), arrivalArbitrary(events))),
        ([events, batches]) => {
          const { profiles } = ingestInBatches(batches);
          for (const customerId of CUSTOMERS) {
            const history = events.filter((e) => e.customerId === customerId);
            const stored = profiles.get(customerId);
            if (history.length === 0) {
              expect(stored).toBeUndefined();
              continue;
            }
            const orders = computeOrderAggregates(orderRecordsOf(history));
            expect(snapshotOf(stored?.state ?? emptyProfile(customerId), orders)).toEqual(
              profileFromHistory(customerId, history),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives each event the same profile, right after it, however its arrival is cut into batches (property)', () => {
    fc.assert(
      fc.property(
        historyArbitrary({ currencies: ['USD', 'USD', 'USD', 'EUR'] }).chain((events) =>
          fc.tuple(
            arrivalArbitrary(events).map((batches) => batches.flat()),
            fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 20 }),
          ),
        ),
        ([arrival, sizes]) => {
          const oneByOne = ingestInBatches(arrival.map((event) => [event]));
          const batched = ingestInBatches(cut(arrival, sizes));

          // Across customers the batches interleave differently; per customer nothing differs.
          expect(byCustomer(batched.published)).toEqual(byCustomer(oneByOne.published));
          expect(batched.profiles).toEqual(oneByOne.profiles);
          for (const customerId of CUSTOMERS) {
            expect(byCustomer(batched.published).get(customerId) ?? []).toEqual(
              snapshotsInArrivalOrder(
                customerId,
                arrival.filter((e) => e.customerId === customerId),
              ),
            );
          }
          // And each event's order attributes are the reference definition's over the events
          // of the customer accepted so far, that one included.
          for (const [customerId, published] of byCustomer(batched.published)) {
            published.forEach(({ snapshot }, i) => {
              const { lifetimeOrders, lifetimeValue, currency, firstOrderAt, lastOrderAt } = snapshotOf(
                emptyProfile(customerId),
                computeOrderAggregates(orderRecordsOf(published.slice(0, i + 1).map((a) => a.event))),
              ).attributes;
              expect(snapshot.attributes).toMatchObject({
                lifetimeOrders,
                lifetimeValue,
                currency,
                firstOrderAt,
                lastOrderAt,
              });
            });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('merges two partial histories into the profile of the whole one, in either order and twice', () => {
    fc.assert(
      fc.property(
        historyArbitrary(),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (events, sides) => {
          const mine = events.map((e) => ({ ...e, customerId: 'c-1' }));
          const left = mine.filter((_, i) => sides[i]);
          const right = mine.filter((_, i) => !sides[i]);
          const fold = (part: readonly CanonicalEvent[]) =>
            applyEvents(emptyProfile('c-1'), emptyOrderBook(), part).state;
          const whole = fold(mine);
          expect(mergeProfiles(fold(left), fold(right))).toEqual(whole);
          expect(mergeProfiles(fold(right), fold(left))).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rejectForeignCurrencies', () => {
  const order = (eventId: string, currency: string, minute: number) =>
    canonical({
      eventId,
      type: 'order.placed',
      customerId: 'c-1',
      occurredAt: new Date(Date.parse('2027-05-01T00:00:00Z') + minute * 60_000),
      properties: { orderId: eventId, total: '10.00', currency },
    });

  it('fixes the currency by the first order to arrive, as if one by one, and names the rule for the others', () => {
    const { accepted, rejected } = rejectForeignCurrencies(
      [order('e-1', 'USD', 2), order('e-2', 'EUR', 1), order('e-3', 'USD', 3)],
      new Map(),
    );
    expect(accepted.map((e) => e.eventId)).toEqual(['e-1', 'e-3']);
    expect(rejected.map((r) => [r.event.eventId, r.path, r.message])).toEqual([
      ['e-2', 'properties.currency', "must be USD, the currency of the customer's earlier orders (got EUR)"],
    ]);
  });

  it('gives a customer without orders the currency of the visitor linked to it, from the link on', () => {
    const link = canonical({
      eventId: 'l-1',
      type: 'identity.linked',
      customerId: 'c-1',
      anonymousId: 'v-1',
    });
    const { accepted, rejected } = rejectForeignCurrencies(
      [order('e-1', 'EUR', 1), link, order('e-2', 'USD', 2), order('e-3', 'EUR', 3)].map((e) =>
        e.eventId === 'e-1' ? { ...e, customerId: 'anon:v-1' } : e,
      ),
      new Map([['c-1', { orders: null, refunds: null }]]),
      new Map([['l-1', 'anon:v-1']]),
    );
    expect(accepted.map((e) => e.eventId)).toEqual(['e-1', 'l-1', 'e-3']);
    expect(rejected.map((r) => [r.event.eventId, r.message])).toEqual([
      ['e-2', "must be EUR, the currency of the customer's earlier orders (got USD)"],
    ]);
  });

  it('holds a refund to the currency of the stored orders', () => {
    const refund = canonical({
      eventId: 'r-1',
      type: 'order.refunded',
      customerId: 'c-1',
      properties: { orderId: 'o-1', amount: '5.00', currency: 'GBP' },
    });
    const { accepted, rejected } = rejectForeignCurrencies(
      [refund],
      new Map([['c-1', { orders: 'USD', refunds: null }]]),
    );
    expect(accepted).toEqual([]);
    expect(rejected[0]?.message).toBe("must be USD, the currency of the customer's earlier orders (got GBP)");
  });
});
