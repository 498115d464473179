import type { CustomerEventV1, CustomerProfileSnapshot } from '@mmp/contracts';
import type { NthEventMilestone, ThresholdMilestone, WindowedCountMilestone } from '@mmp/program';
import { evaluateCustomerEvents, type MilestoneState } from './evaluate-event';
import { occurrenceIdOf } from './occurrence-id';
import { eventOf, profileOf } from './test-profiles.spec-helper';

const now = new Date('2027-03-15T15:00:00Z');

function reachedBy(
  milestone: NthEventMilestone | ThresholdMilestone | WindowedCountMilestone,
  events: readonly CustomerEventV1[],
  previous: CustomerProfileSnapshot | null = null,
  states: ReadonlyMap<string, MilestoneState> = new Map(),
): string[] {
  return evaluateCustomerEvents([milestone], previous, states, events, now).reached.map(
    (r) => `${r.event.eventId}:${r.occurrence.occurrence}`,
  );
}

describe('nth_event', () => {
  const secondOrder: NthEventMilestone = {
    key: 'second_order',
    kind: 'nth_event',
    event: 'order.placed',
    n: 2,
  };
  const order = (id: string, count: number, triggerable = true, traits: Record<string, unknown> = {}) =>
    eventOf(
      id,
      'order.placed',
      '2027-03-15T10:00:00-05:00',
      profileOf(traits, { eventCounts: { 'order.placed': count } }),
      triggerable,
    );

  it('records the occurrence with its deterministic id, cause and context', () => {
    const { reached } = evaluateCustomerEvents([secondOrder], null, new Map(), [order('e-2', 2)], now);
    expect(reached.map((r) => r.occurrence)).toEqual([
      {
        occurrenceId: occurrenceIdOf('second_order', 'c-42', '2'),
        milestoneKey: 'second_order',
        customerId: 'c-42',
        occurrence: '2',
        reachedAt: now,
        context: { n: 2 },
        causeEventId: 'e-2',
      },
    ]);
  });

  it.each([
    [
      'the event making the count exactly n fires',
      [order('e-1', 1), order('e-2', 2), order('e-3', 3)],
      ['e-2:2'],
    ],
    ['a later event does not fire again', [order('e-3', 3)], []],
    ['an event too old to trigger fires nothing', [order('e-2', 2, false)], []],
    ['another event type fires nothing', [{ ...order('e-2', 2), type: 'product.viewed' }], []],
    ['an unmet where fires nothing', [order('e-2', 2, true, { country: 'CA' })], []],
  ])('%s', (_case, events, expected) => {
    const usOrAny = { ...secondOrder, where: { 'traits.country': { ne: 'CA' } } };
    expect(reachedBy(usOrAny, events)).toEqual(expected);
  });
});

describe('threshold', () => {
  const vip: ThresholdMilestone = {
    key: 'vip_gold',
    kind: 'threshold',
    attribute: 'lifetimeValue',
    gte: 200,
    rearm: true,
  };
  const once: ThresholdMilestone = { ...vip, rearm: false };
  const worth = (id: string, value: string, type = 'order.placed', triggerable = true) =>
    eventOf(
      id,
      type,
      '2027-03-15T10:00:00Z',
      profileOf({ country: 'US' }, { lifetimeValue: value }),
      triggerable,
    );

  it.each([
    [
      'fires on the upward crossing',
      vip,
      null,
      [worth('e-1', '150.00'), worth('e-2', '200.00'), worth('e-3', '300.00')],
      ['e-2:1'],
    ],
    [
      'with rearm, fires again after a refund dropped it below and it crossed again',
      vip,
      null,
      [
        worth('e-1', '250.00'),
        worth('r-1', '120.00', 'order.refunded'),
        worth('e-2', '220.00'),
        worth('e-3', '230.00'),
      ],
      ['e-1:1', 'e-2:2'],
    ],
    [
      'without rearm, fires only the first crossing',
      once,
      null,
      [worth('e-1', '250.00'), worth('r-1', '120.00', 'order.refunded'), worth('e-2', '220.00')],
      ['e-1:1'],
    ],
    [
      'a customer already above when it was added does not fire',
      vip,
      profileOf({}, { lifetimeValue: '500.00' }),
      [worth('e-1', '600.00')],
      [],
    ],
    [
      'a redelivered event finds the profile already at its value',
      vip,
      profileOf({}, { lifetimeValue: '200.00' }),
      [worth('e-2', '200.00')],
      [],
    ],
    [
      'a crossing by an event too old to trigger fires nothing',
      vip,
      null,
      [worth('e-1', '250.00', 'order.placed', false)],
      [],
    ],
    [
      'an unmet where fires nothing',
      { ...vip, where: { 'traits.country': { eq: 'CA' } } },
      null,
      [worth('e-1', '250.00')],
      [],
    ],
  ])('%s', (_case, milestone, previous, events, expected) => {
    expect(reachedBy(milestone, events, previous)).toEqual(expected);
  });

  it('numbers a crossing after the stored ones, and returns the new state', () => {
    const states = new Map<string, MilestoneState>([['vip_gold', { kind: 'threshold', crossings: 2 }]]);
    const result = evaluateCustomerEvents(
      [vip],
      profileOf({}, { lifetimeValue: '10.00' }),
      states,
      [worth('e-9', '210.00')],
      now,
    );
    expect(result.reached.map((r) => r.occurrence.occurrence)).toEqual(['3']);
    expect(result.states.get('vip_gold')).toEqual({ kind: 'threshold', crossings: 3 });
  });

  it('watches lifetimeOrders and event counts too', () => {
    const orders: ThresholdMilestone = {
      key: 'five',
      kind: 'threshold',
      attribute: 'eventCounts.product.viewed',
      gte: 5,
      rearm: false,
    };
    const viewed = (id: string, count: number) =>
      eventOf(
        id,
        'product.viewed',
        '2027-03-15T10:00:00Z',
        profileOf({}, { eventCounts: { 'product.viewed': count } }),
      );
    expect(reachedBy(orders, [viewed('v-4', 4), viewed('v-5', 5), viewed('v-6', 6)])).toEqual(['v-5:1']);
  });
});

describe('windowed_count', () => {
  const struggle: WindowedCountMilestone = {
    key: 'cart_struggle',
    kind: 'windowed_count',
    event: 'cart.abandoned',
    n: 3,
    withinDays: 14,
  };
  const abandon = (id: string, day: string, triggerable = true) =>
    eventOf(id, 'cart.abandoned', `2027-03-${day}T12:00:00Z`, profileOf(), triggerable);

  it.each([
    [
      'fires on the nth event within the window, named by the window start',
      [abandon('a', '01'), abandon('b', '05'), abandon('c', '14')],
      ['c:2027-03-01T12:00:00.000Z'],
    ],
    [
      'does not count events that slid out of the window',
      [abandon('a', '01'), abandon('b', '10'), abandon('c', '16')],
      [],
    ],
    [
      'slides: the oldest event leaves, the next three fire',
      [abandon('a', '01'), abandon('b', '10'), abandon('c', '16'), abandon('d', '20')],
      ['d:2027-03-10T12:00:00.000Z'],
    ],
    [
      'is silent for a window after firing',
      [
        abandon('a', '01'),
        abandon('b', '02'),
        abandon('c', '03'),
        abandon('d', '04'),
        abandon('e', '05'),
        abandon('f', '06'),
      ],
      ['c:2027-03-01T12:00:00.000Z'],
    ],
    [
      'counts again once the silence is over',
      [
        abandon('a', '01'),
        abandon('b', '02'),
        abandon('c', '03'),
        abandon('d', '17'),
        abandon('e', '18'),
        abandon('f', '19'),
      ],
      ['c:2027-03-01T12:00:00.000Z', 'f:2027-03-17T12:00:00.000Z'],
    ],
    ['counts a redelivered event once', [abandon('a', '01'), abandon('b', '02'), abandon('b', '02')], []],
    [
      'ignores events too old to trigger',
      [abandon('a', '01'), abandon('b', '02', false), abandon('c', '03')],
      [],
    ],
    [
      'counts out-of-order events by when they occurred',
      [abandon('c', '14'), abandon('a', '01'), abandon('b', '05')],
      ['b:2027-03-01T12:00:00.000Z'],
    ],
  ])('%s', (_case, events, expected) => {
    expect(reachedBy(struggle, events)).toEqual(expected);
  });

  it('checks where on the profile after the nth event', () => {
    const usOnly = { ...struggle, where: { 'traits.country': { eq: 'US' } } };
    expect(reachedBy(usOnly, [abandon('a', '01'), abandon('b', '02'), abandon('c', '03')])).toEqual([]);
  });

  it('carries the window across batches through its state', () => {
    const first = evaluateCustomerEvents(
      [struggle],
      null,
      new Map(),
      [abandon('a', '01'), abandon('b', '02')],
      now,
    );
    expect(first.reached).toEqual([]);
    const second = evaluateCustomerEvents([struggle], null, first.states, [abandon('c', '03')], now);
    expect(second.reached.map((r) => r.occurrence.occurrence)).toEqual(['2027-03-01T12:00:00.000Z']);
  });
});

describe('occurrenceIdOf', () => {
  it('is the same for the same occurrence and differs otherwise', () => {
    expect(occurrenceIdOf('second_order', 'c-42', '2')).toBe(occurrenceIdOf('second_order', 'c-42', '2'));
    expect(occurrenceIdOf('second_order', 'c-42', '2')).not.toBe(occurrenceIdOf('second_order', 'c-43', '2'));
    // No ambiguity from separators inside ids.
    expect(occurrenceIdOf('a:b', 'c', '1')).not.toBe(occurrenceIdOf('a', 'b:c', '1'));
  });
});
