import type { CustomerEventV1 } from '@mmp/contracts';
import type { NthEventMilestone } from '@mmp/program';
import { evaluateEvent } from './evaluate-event';
import { occurrenceIdOf } from './occurrence-id';

const secondOrder: NthEventMilestone = {
  key: 'second_order',
  kind: 'nth_event',
  event: 'order.placed',
  n: 2,
};
const now = new Date('2027-03-15T15:00:00Z');

function orderEvent(eventId: string, count: number, triggerable = true): CustomerEventV1 {
  return {
    schemaVersion: 1,
    eventId,
    type: 'order.placed',
    occurredAt: '2027-03-15T10:00:00-05:00',
    receivedAt: '2027-03-15T15:00:00Z',
    customerId: 'c-42',
    anonymousId: null,
    properties: { orderId: eventId, total: '10.00', currency: 'USD' },
    triggerable,
    profile: {
      customerId: 'c-42',
      traits: {},
      attributes: {
        lifetimeOrders: count,
        lifetimeValue: '20.00',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: null,
        eventCounts: { 'order.placed': count },
      },
    },
  };
}

describe('nth_event', () => {
  it('fires on the event that makes the count exactly n', () => {
    expect(evaluateEvent([secondOrder], orderEvent('e-1', 1), now)).toEqual([]);
    expect(evaluateEvent([secondOrder], orderEvent('e-2', 2), now)).toEqual([
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

  it('does not fire again on later events', () => {
    expect(evaluateEvent([secondOrder], orderEvent('e-3', 3), now)).toEqual([]);
  });

  it('ignores events too old to trigger', () => {
    expect(evaluateEvent([secondOrder], orderEvent('e-2', 2, false), now)).toEqual([]);
  });

  it('checks where conditions on the profile', () => {
    const usOnly: NthEventMilestone = { ...secondOrder, where: { 'traits.country': { eq: 'US' } } };
    expect(evaluateEvent([usOnly], orderEvent('e-2', 2), now)).toEqual([]);
    const us = orderEvent('e-2', 2);
    us.profile.traits = { country: 'US' };
    expect(evaluateEvent([usOnly], us, now)).toHaveLength(1);
  });

  it('ignores other event types', () => {
    const viewed = { ...orderEvent('e-2', 2), type: 'product.viewed' };
    expect(evaluateEvent([secondOrder], viewed, now)).toEqual([]);
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
