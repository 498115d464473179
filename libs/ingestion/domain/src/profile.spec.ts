import type { CanonicalEvent } from './canonical-event';
import { formatMoney, parseMoney } from './money';
import {
  aggregatesOf,
  applyEvents,
  computeOrderAggregates,
  emptyOrderBook,
  emptyProfile,
  noOrders,
  type AppliedEvent,
} from './profile';
import { applyTraits, emptyTraitState } from './traits';
import { isTriggerable } from './trigger-age';

const event = (
  eventId: string,
  type: string,
  occurredAt: string,
  traits?: Record<string, unknown>,
): CanonicalEvent => ({
  eventId,
  type,
  occurredAt: new Date(occurredAt),
  receivedAt: new Date('2027-03-20T00:00:00Z'),
  customerId: 'c-42',
  anonymousId: null,
  traits,
  properties: {},
  triggerable: true,
});

describe('money', () => {
  it.each([
    ['129.90', '129.90'],
    ['129.9', '129.90'],
    ['0', '0.00'],
    ['10.1234', '10.1234'],
  ])('reads %s and writes it back as %s', (input, output) => {
    expect(formatMoney(parseMoney(input))).toBe(output);
  });

  it('adds without float drift', () => {
    expect(formatMoney(parseMoney('0.10') + parseMoney('0.20'))).toBe('0.30');
  });

  it('rejects what is not a decimal', () => {
    expect(() => parseMoney('1e3')).toThrow('not a decimal amount: "1e3"');
  });
});

describe('order aggregates', () => {
  const order = (orderId: string, total: string, placedAt: string, refunded = '0') => ({
    orderId,
    total,
    currency: 'USD',
    placedAt: new Date(placedAt),
    refunded,
  });

  it('counts orders not fully refunded and nets refunds out of the value', () => {
    const aggregates = computeOrderAggregates([
      order('o-1', '100.00', '2027-01-01T00:00:00Z', '100.00'),
      order('o-2', '50.50', '2027-02-01T00:00:00Z', '10.25'),
      order('o-3', '20', '2027-03-01T00:00:00Z'),
    ]);
    expect(aggregates).toEqual({
      lifetimeOrders: 2,
      lifetimeValue: '60.25',
      currency: 'USD',
      firstOrderAt: new Date('2027-01-01T00:00:00Z'),
      lastOrderAt: new Date('2027-03-01T00:00:00Z'),
    });
  });

  it('never lets a refund take an order below zero', () => {
    expect(computeOrderAggregates([order('o-1', '10', '2027-01-01T00:00:00Z', '25')]).lifetimeValue).toBe(
      '0.00',
    );
  });

  it('is empty without orders', () => {
    expect(computeOrderAggregates([])).toEqual(noOrders);
  });
});

describe('traits', () => {
  it('keeps the latest value whatever the arrival order, and null clears', () => {
    const older = { email: 'old@example.com', firstName: 'Ann' };
    const newer = { email: 'new@example.com', firstName: null };
    const t1 = new Date('2027-01-01T00:00:00Z');
    const t2 = new Date('2027-01-02T00:00:00Z');
    const inOrder = applyTraits(applyTraits(emptyTraitState(), older, t1, 'e-1'), newer, t2, 'e-2');
    const reversed = applyTraits(applyTraits(emptyTraitState(), newer, t2, 'e-2'), older, t1, 'e-1');
    expect(inOrder.values).toEqual({ email: 'new@example.com' });
    expect(reversed).toEqual(inOrder);
  });
});

describe('applyEvents', () => {
  it('gives each event the counts right after it, in arrival order', () => {
    const { applied, state } = applyEvents(emptyProfile('c-42'), emptyOrderBook(), [
      event('e-2', 'product.viewed', '2027-03-15T11:00:00Z'),
      event('e-1', 'product.viewed', '2027-03-15T10:00:00Z'),
    ]);
    expect(
      applied.map((a) => [a.event.eventId, a.snapshot.attributes.eventCounts['product.viewed']]),
    ).toEqual([
      ['e-2', 1],
      ['e-1', 2],
    ]);
    expect(state.eventCounts).toEqual({ 'product.viewed': 2 });
  });

  const placed = (eventId: string, orderId: string, total: string, occurredAt: string): CanonicalEvent => ({
    ...event(eventId, 'order.placed', occurredAt),
    properties: { orderId, total, currency: 'USD' },
  });
  const refunded = (
    eventId: string,
    orderId: string,
    amount: string,
    occurredAt: string,
  ): CanonicalEvent => ({
    ...event(eventId, 'order.refunded', occurredAt),
    properties: { orderId, amount, currency: 'USD' },
  });
  const values = (applied: readonly AppliedEvent[]) =>
    applied.map((a) => [
      a.event.eventId,
      a.snapshot.attributes.lifetimeValue,
      a.snapshot.attributes.lifetimeOrders,
    ]);

  it('gives each event the order attributes right after it, so a batch shows a value crossed twice', () => {
    const first = applyEvents(emptyProfile('c-42'), emptyOrderBook(), [
      placed('e-1', 'o-1', '250.00', '2027-03-15T10:00:00Z'),
    ]);
    const { applied, orders } = applyEvents(first.state, first.orders, [
      refunded('e-2', 'o-1', '100.00', '2027-03-16T10:00:00Z'),
      placed('e-3', 'o-2', '60.00', '2027-03-16T10:04:00Z'),
    ]);
    expect(values(applied)).toEqual([
      ['e-2', '150.00', 1],
      ['e-3', '210.00', 2],
    ]);
    expect(aggregatesOf(orders)).toEqual(
      computeOrderAggregates([
        {
          orderId: 'o-1',
          total: '250.00',
          currency: 'USD',
          placedAt: new Date('2027-03-15T10:00:00Z'),
          refunded: '100.00',
        },
        {
          orderId: 'o-2',
          total: '60.00',
          currency: 'USD',
          placedAt: new Date('2027-03-16T10:04:00Z'),
          refunded: '0',
        },
      ]),
    );
  });

  it('counts a refund that came before its order once the order is there, never below zero', () => {
    const { applied } = applyEvents(emptyProfile('c-42'), emptyOrderBook(), [
      refunded('e-1', 'o-1', '30.00', '2027-03-15T10:00:00Z'),
      placed('e-2', 'o-1', '20.00', '2027-03-15T09:00:00Z'),
      placed('e-3', 'o-2', '5.00', '2027-03-15T11:00:00Z'),
      // Happened before e-2: it is the order o-1, and 30.00 back of 40.00 leaves it counted.
      placed('e-4', 'o-1', '40.00', '2027-03-15T08:00:00Z'),
    ]);
    expect(values(applied)).toEqual([
      ['e-1', '0.00', 0],
      ['e-2', '0.00', 0],
      ['e-3', '5.00', 1],
      ['e-4', '15.00', 2],
    ]);
  });

  it("takes a visitor's history in at the event that linked it, not before", () => {
    const visitorOrders = applyEvents(emptyProfile('anon:a-1'), emptyOrderBook(), [
      { ...placed('v-1', 'o-v', '70.00', '2027-03-10T10:00:00Z'), customerId: 'anon:a-1' },
    ]);
    const { applied } = applyEvents(
      emptyProfile('c-42'),
      emptyOrderBook(),
      [
        placed('e-1', 'o-1', '10.00', '2027-03-15T10:00:00Z'),
        event('e-2', 'identity.linked', '2027-03-15T11:00:00Z'),
        event('e-3', 'product.viewed', '2027-03-15T12:00:00Z'),
      ],
      new Map([['e-2', { profile: visitorOrders.state, orders: visitorOrders.orders }]]),
    );
    expect(values(applied)).toEqual([
      ['e-1', '10.00', 1],
      ['e-2', '80.00', 2],
      ['e-3', '80.00', 2],
    ]);
    expect(applied.map((a) => a.snapshot.attributes.eventCounts['order.placed'])).toEqual([1, 2, 2]);
  });

  it('takes registeredAt from the earliest registration', () => {
    const { state } = applyEvents(emptyProfile('c-42'), emptyOrderBook(), [
      event('e-2', 'customer.registered', '2027-03-15T11:00:00Z', { firstName: 'Ann' }),
      event('e-1', 'customer.registered', '2026-03-15T11:00:00Z'),
    ]);
    expect(state.registeredAt?.toISOString()).toBe('2026-03-15T11:00:00.000Z');
    expect(state.traits.values).toEqual({ firstName: 'Ann' });
  });
});

describe('push tokens', () => {
  const token = (eventId: string, type: 'registered' | 'unregistered', tok: string, occurredAt: string) => ({
    ...event(eventId, `push.token.${type}`, occurredAt),
    properties: type === 'registered' ? { token: tok, platform: 'ios' } : { token: tok },
  });
  const reg = (id: string, tok: string, at: string) => token(id, 'registered', tok, at);
  const unreg = (id: string, tok: string, at: string) => token(id, 'unregistered', tok, at);
  const fold = (events: CanonicalEvent[]) =>
    applyEvents(emptyProfile('c-42'), emptyOrderBook(), events).state.traits.values['pushTokens'];
  /** Each history applied in every arrival order (one event per batch) must give the same trait. */
  const permutations = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((item, i) =>
          permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
        );
  const foldOneByOne = (events: CanonicalEvent[]) =>
    events.reduce((state, e) => applyEvents(state, emptyOrderBook(), [e]).state, emptyProfile('c-42')).traits
      .values['pushTokens'];

  it.each([
    ['a registration adds the token', [reg('e-1', 'a', '2027-03-01T00:00:00Z')], ['a']],
    [
      'tokens are listed oldest registration first',
      [reg('e-1', 'b', '2027-03-02T00:00:00Z'), reg('e-2', 'a', '2027-03-01T00:00:00Z')],
      ['a', 'b'],
    ],
    [
      'a later unregistration removes the token, the trait goes when none is left',
      [reg('e-1', 'a', '2027-03-01T00:00:00Z'), unreg('e-2', 'a', '2027-03-02T00:00:00Z')],
      undefined,
    ],
    [
      'an older registration never resurrects a token unregistered later',
      [
        reg('e-1', 'a', '2027-03-01T00:00:00Z'),
        unreg('e-2', 'a', '2027-03-03T00:00:00Z'),
        reg('e-3', 'b', '2027-03-01T00:00:00Z'),
      ],
      ['b'],
    ],
    [
      'a registration after the unregistration brings the token back',
      [unreg('e-1', 'a', '2027-03-02T00:00:00Z'), reg('e-2', 'a', '2027-03-03T00:00:00Z')],
      ['a'],
    ],
    [
      'an unregistration of an unknown token leaves the others',
      [reg('e-1', 'a', '2027-03-01T00:00:00Z'), unreg('e-2', 'z', '2027-03-02T00:00:00Z')],
      ['a'],
    ],
    [
      'a tie on occurredAt goes to the larger eventId',
      [reg('e-2', 'a', '2027-03-01T00:00:00Z'), unreg('e-1', 'a', '2027-03-01T00:00:00Z')],
      ['a'],
    ],
  ])('%s, in every arrival order', (_name, events, expected) => {
    for (const order of permutations(events)) {
      expect(fold(order)).toEqual(expected);
      expect(foldOneByOne(order)).toEqual(expected);
    }
  });

  it('cannot be set or cleared through traits', () => {
    const state = applyEvents(emptyProfile('c-42'), emptyOrderBook(), [
      reg('e-1', 'a', '2027-03-01T00:00:00Z'),
      event('e-2', 'customer.updated', '2027-03-02T00:00:00Z', { pushTokens: null, 'pushTokens/a': 'x' }),
    ]).state;
    expect(state.traits.values).toEqual({ pushTokens: ['a'] });
    expect(state.traits.versions).toEqual({ 'pushTokens/a': '+2027-03-01T00:00:00.000Z|e-1' });
  });
});

describe('isTriggerable', () => {
  const received = new Date('2027-03-20T00:00:00Z');
  it('lets recent events trigger and holds back older ones', () => {
    expect(isTriggerable(new Date('2027-03-18T00:00:00Z'), received, 48)).toBe(true);
    expect(isTriggerable(new Date('2027-03-17T23:59:59Z'), received, 48)).toBe(false);
  });
});
