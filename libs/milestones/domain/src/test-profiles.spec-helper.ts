import type { CustomerEventV1, CustomerProfileSnapshot, ProfileAttributes } from '@mmp/contracts';
import type { AfterMilestone, AnniversaryMilestone, InactivityMilestone } from '@mmp/program';

/** The time-based milestones of SPEC section 5's example program, as the specs use them. */
export const birthday: AnniversaryMilestone = {
  key: 'birthday',
  kind: 'anniversary',
  date: 'birthday',
  at: '09:00',
};
export const signup: AnniversaryMilestone = {
  key: 'signup_anniversary',
  kind: 'anniversary',
  date: 'registeredAt',
  at: '10:00',
};
export const firstOrder: AnniversaryMilestone = {
  key: 'first_order_anniversary',
  kind: 'anniversary',
  date: 'firstOrderAt',
  at: '10:00',
};
export const welcome: AfterMilestone = {
  key: 'welcome_day_30',
  kind: 'after',
  date: 'registeredAt',
  days: 30,
  at: '10:00',
};
export const lapsed: InactivityMilestone = {
  key: 'lapsed_60d',
  kind: 'inactivity',
  event: 'order.placed',
  days: 60,
  at: '10:00',
};

export function profileOf(
  traits: Record<string, unknown> = {},
  attributes: Partial<ProfileAttributes> = {},
): CustomerProfileSnapshot {
  return {
    customerId: 'c-42',
    traits,
    attributes: {
      lifetimeOrders: 0,
      lifetimeValue: '0.00',
      currency: null,
      firstOrderAt: null,
      lastOrderAt: null,
      registeredAt: null,
      eventCounts: {},
      ...attributes,
    },
  };
}

export function eventOf(
  eventId: string,
  type: string,
  occurredAt: string,
  profile: CustomerProfileSnapshot,
  triggerable = true,
): CustomerEventV1 {
  return {
    schemaVersion: 1,
    eventId,
    type,
    occurredAt,
    receivedAt: occurredAt,
    customerId: 'c-42',
    anonymousId: null,
    properties: {},
    triggerable,
    profile,
  };
}
