import type { RetailEventV1 } from '@mmp/contracts';

/** An accepted event, with the time it arrived and the customer it belongs to. */
export interface CanonicalEvent {
  eventId: string;
  type: string;
  occurredAt: Date;
  receivedAt: Date;
  /** The customer the event is filed under: its customerId, or its anonymousId until linked. */
  customerId: string;
  anonymousId: string | null;
  traits: Record<string, unknown> | undefined;
  properties: Record<string, unknown>;
  triggerable: boolean;
}

/**
 * Anonymous visitors get a profile of their own under a prefixed id, so an anonymous id can
 * never collide with a retailer's customer id.
 */
export const anonymousProfileId = (anonymousId: string): string => `anon:${anonymousId}`;

export function toCanonicalEvent(
  event: RetailEventV1,
  receivedAt: Date,
  triggerable: boolean,
): CanonicalEvent {
  return {
    eventId: event.eventId,
    type: event.type,
    occurredAt: new Date(event.occurredAt),
    receivedAt,
    customerId: event.customerId ?? anonymousProfileId(event.anonymousId ?? ''),
    anonymousId: event.anonymousId ?? null,
    traits: event.traits,
    properties: event.properties ?? {},
    triggerable,
  };
}
