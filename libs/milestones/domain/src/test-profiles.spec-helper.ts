import type { CustomerEventV1, CustomerProfileSnapshot, ProfileAttributes } from '@mmp/contracts';

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
