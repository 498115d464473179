import type { ProfileAttributes } from '@mmp/contracts';
import { type Conditions, isEventSinceEntry, matchesConditions, readProfileField } from './conditions';

const attributes: ProfileAttributes = {
  lifetimeOrders: 3,
  lifetimeValue: '249.90',
  currency: 'USD',
  firstOrderAt: '2026-01-10T12:00:00Z',
  lastOrderAt: '2027-03-15T10:00:00-05:00',
  registeredAt: null,
  eventCounts: { 'order.placed': 4, 'cart.abandoned': 1 },
};
const profile = { traits: { country: 'US', vip: true, tier: null, birthday: '1990-05-04' }, attributes };

describe('matchesConditions', () => {
  it.each<[string, Conditions, boolean]>([
    ['eq on a trait', { 'traits.country': { eq: 'US' } }, true],
    ['eq on a different value', { 'traits.country': { eq: 'CA' } }, false],
    ['ne on a different value', { 'traits.country': { ne: 'CA' } }, true],
    ['ne on an absent trait', { 'traits.locale': { ne: 'fr' } }, true],
    ['in a list', { 'traits.country': { in: ['US', 'CA'] } }, true],
    ['not in a list', { 'traits.country': { in: ['FR', 'DE'] } }, false],
    ['eq on a boolean', { 'traits.vip': { eq: true } }, true],
    ['gte on a count', { 'attributes.lifetimeOrders': { gte: 3 } }, true],
    ['lte below the count', { 'attributes.lifetimeOrders': { lte: 2 } }, false],
    ['gte on a decimal string', { 'attributes.lifetimeValue': { gte: 200 } }, true],
    ['eq of a number and a decimal string', { 'attributes.lifetimeValue': { eq: 249.9 } }, true],
    ['gte on an event count', { 'attributes.eventCounts.order.placed': { gte: 4 } }, true],
    ['an absent event count as zero', { 'attributes.eventCounts.product.viewed': { lte: 0 } }, true],
    [
      'dates with different offsets compared as instants',
      { 'attributes.lastOrderAt': { gte: '2027-03-15T15:00:00Z' } },
      true,
    ],
    ['plain dates compared alphabetically', { 'traits.birthday': { lte: '1990-12-31' } }, true],
    ['exists on a present trait', { 'traits.vip': { exists: true } }, true],
    ['exists on a null trait', { 'traits.tier': { exists: true } }, false],
    ['exists: false on a null attribute', { 'attributes.registeredAt': { exists: false } }, true],
    ['gte on an absent trait', { 'traits.score': { gte: 1 } }, false],
    ['several tests on one field', { 'attributes.lifetimeOrders': { gte: 2, lte: 5 } }, true],
    [
      'several fields, one failing',
      { 'traits.country': { eq: 'US' }, 'attributes.lifetimeOrders': { gte: 10 } },
      false,
    ],
  ])('evaluates %s', (_name, conditions, expected) => {
    expect(matchesConditions(conditions, profile)).toBe(expected);
  });

  it('passes when there are no conditions', () => {
    expect(matchesConditions(undefined, profile)).toBe(true);
  });
});

describe('readProfileField', () => {
  it('reads an event type with dots as one event count key', () => {
    expect(readProfileField(profile, 'attributes.eventCounts.cart.abandoned')).toBe(1);
  });
});

describe('isEventSinceEntry', () => {
  it('tells the event form of a branch condition from profile conditions', () => {
    expect(isEventSinceEntry({ eventSinceEntry: 'order.placed' })).toBe(true);
    expect(isEventSinceEntry({ 'traits.country': { eq: 'US' } })).toBe(false);
  });
});
