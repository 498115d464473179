import type { CanonicalEvent } from './canonical-event';
import { formatMoney, parseMoney } from './money';
import { applyEvents, computeOrderAggregates, emptyProfile, noOrders } from './profile';
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
  it('gives each event the counts right after it, in occurrence order', () => {
    const { applied, state } = applyEvents(
      emptyProfile('c-42'),
      [
        event('e-2', 'order.placed', '2027-03-15T11:00:00Z'),
        event('e-1', 'order.placed', '2027-03-15T10:00:00Z'),
      ],
      noOrders,
    );
    expect(applied.map((a) => [a.event.eventId, a.snapshot.attributes.eventCounts['order.placed']])).toEqual([
      ['e-1', 1],
      ['e-2', 2],
    ]);
    expect(state.eventCounts).toEqual({ 'order.placed': 2 });
  });

  it('takes registeredAt from the earliest registration', () => {
    const { state } = applyEvents(
      emptyProfile('c-42'),
      [
        event('e-2', 'customer.registered', '2027-03-15T11:00:00Z', { firstName: 'Ann' }),
        event('e-1', 'customer.registered', '2026-03-15T11:00:00Z'),
      ],
      noOrders,
    );
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
    applyEvents(emptyProfile('c-42'), events, noOrders).state.traits.values['pushTokens'];
  /** Each history applied in every arrival order (one event per batch) must give the same trait. */
  const permutations = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((item, i) =>
          permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
        );
  const foldOneByOne = (events: CanonicalEvent[]) =>
    events.reduce((state, e) => applyEvents(state, [e], noOrders).state, emptyProfile('c-42')).traits.values[
      'pushTokens'
    ];

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
    const state = applyEvents(
      emptyProfile('c-42'),
      [
        reg('e-1', 'a', '2027-03-01T00:00:00Z'),
        event('e-2', 'customer.updated', '2027-03-02T00:00:00Z', { pushTokens: null, 'pushTokens/a': 'x' }),
      ],
      noOrders,
    ).state;
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
