import fc from 'fast-check';
import type { CanonicalEvent } from './canonical-event';
import { currencyOf, rejectForeignCurrencies } from './currency';
import {
  applyEvents,
  computeOrderAggregates,
  emptyProfile,
  mergeProfiles,
  orderRecordsOf,
  snapshotOf,
  type ProfileState,
} from './profile';
import { profileFromHistory } from './profile-history';

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
 * their own ids, partial and full refunds (possibly of orders that arrive later), custom events,
 * and push tokens registered and unregistered (a few tokens, so the same one comes and goes).
 */
const historyArbitrary = fc
  .array(
    fc.record({
      customer: fc.constantFrom(...CUSTOMERS),
      kind: fc.constantFrom(
        'registered',
        'updated',
        'order',
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
            properties: { orderId, total: amount, currency: 'USD' },
          });
        case 'refund':
          // Refunds name an order of the same customer by a small number: some exist, some never do.
          return canonical({
            ...base,
            type: 'order.refunded',
            properties: { orderId: `${spec.customer}-o-${spec.order}`, amount, currency: 'USD' },
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

/**
 * What the store does, batch by batch, in arrival order: each eventId once, orders kept by
 * orderId, the profile folded incrementally with the order aggregates known after the batch.
 */
function ingestInBatches(batches: readonly (readonly CanonicalEvent[])[]): Map<string, ProfileState> {
  const stored = new Set<string>();
  const accepted: CanonicalEvent[] = [];
  const profiles = new Map<string, ProfileState>();
  for (const batch of batches) {
    const fresh: CanonicalEvent[] = [];
    for (const event of batch) {
      if (stored.has(event.eventId)) continue;
      stored.add(event.eventId);
      fresh.push(event);
    }
    const known = new Map<string, string>();
    for (const event of accepted) {
      const currency = currencyOf(event);
      if (currency && !known.has(event.customerId)) known.set(event.customerId, currency);
    }
    const { accepted: ok } = rejectForeignCurrencies(fresh, known);
    accepted.push(...ok);
    for (const customerId of new Set(ok.map((e) => e.customerId))) {
      const orders = computeOrderAggregates(
        orderRecordsOf(accepted.filter((e) => e.customerId === customerId)),
      );
      const mine = ok.filter((e) => e.customerId === customerId);
      profiles.set(
        customerId,
        applyEvents(profiles.get(customerId) ?? emptyProfile(customerId), mine, orders).state,
      );
    }
  }
  return profiles;
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
        historyArbitrary.chain((events) => fc.tuple(fc.constant(events), arrivalArbitrary(events))),
        ([events, batches]) => {
          const profiles = ingestInBatches(batches);
          for (const customerId of CUSTOMERS) {
            const history = events.filter((e) => e.customerId === customerId);
            const state = profiles.get(customerId);
            if (history.length === 0) {
              expect(state).toBeUndefined();
              continue;
            }
            const orders = computeOrderAggregates(orderRecordsOf(history));
            expect(snapshotOf(state ?? emptyProfile(customerId), orders)).toEqual(
              profileFromHistory(customerId, history),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('merges two partial histories into the profile of the whole one, in either order and twice', () => {
    fc.assert(
      fc.property(
        historyArbitrary,
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (events, sides) => {
          const mine = events.map((e) => ({ ...e, customerId: 'c-1' }));
          const left = mine.filter((_, i) => sides[i]);
          const right = mine.filter((_, i) => !sides[i]);
          const fold = (part: readonly CanonicalEvent[]) =>
            applyEvents(emptyProfile('c-1'), part, computeOrderAggregates([])).state;
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

  it('fixes the currency by the earliest order and names the rule for the others', () => {
    const { accepted, rejected } = rejectForeignCurrencies(
      [order('e-2', 'EUR', 2), order('e-1', 'USD', 1), order('e-3', 'USD', 3)],
      new Map(),
    );
    expect(accepted.map((e) => e.eventId)).toEqual(['e-1', 'e-3']);
    expect(rejected.map((r) => [r.event.eventId, r.path, r.message])).toEqual([
      ['e-2', 'properties.currency', "must be USD, the currency of the customer's earlier orders (got EUR)"],
    ]);
  });

  it('holds a refund to the currency of the stored orders', () => {
    const refund = canonical({
      eventId: 'r-1',
      type: 'order.refunded',
      customerId: 'c-1',
      properties: { orderId: 'o-1', amount: '5.00', currency: 'GBP' },
    });
    const { accepted, rejected } = rejectForeignCurrencies([refund], new Map([['c-1', 'USD']]));
    expect(accepted).toEqual([]);
    expect(rejected[0]?.message).toBe("must be USD, the currency of the customer's earlier orders (got GBP)");
  });
});
