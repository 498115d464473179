import { z } from 'zod';
import { CustomerProfileSnapshot } from './customer-profile';
import { IsoDateTime } from './primitives';

export const CustomerEventV1 = z.object({
  schemaVersion: z.literal(1),
  /** The retailer's eventId: unique, the idempotency key all the way down. */
  eventId: z.string(),
  type: z.string(),
  occurredAt: IsoDateTime,
  receivedAt: IsoDateTime,
  customerId: z.string(),
  anonymousId: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
  /**
   * False for events older than `policies.maxTriggerAgeHours` at arrival: they update the
   * profile but nothing downstream may trigger on them (a historical import never blasts customers).
   */
  triggerable: z.boolean(),
  /** The profile after applying this event. */
  profile: CustomerProfileSnapshot,
});
export type CustomerEventV1 = z.infer<typeof CustomerEventV1>;

/**
 * The erasure event (SPEC section 6, `DELETE /v1/customers/{id}`). Ingestion publishes it on
 * customer.events.v1, keyed by the customer id, once it has erased its own part. Every service
 * that keeps personal data of the customer deletes it on reading one (traits, addresses,
 * message bodies, consent identifiers) and keeps only aggregates (counts, statuses, amounts).
 * - `type` is `customer.erased`; retailers cannot send this type, only ingestion publishes it;
 * - `eventId` is `erasureEventId(customerId)`: one erasure per customer, and a repeated DELETE
 *   publishes the same id again, so consumers handle it idempotently;
 * - `triggerable` is false, `properties` is `{}`, `anonymousId` is null, `occurredAt` and
 *   `receivedAt` are the time of the request, and `profile` keeps the aggregates with `traits: {}`.
 * After it, ingestion rejects every event for that customer id (`customerId: customer ... was erased`).
 */
export const CUSTOMER_ERASED_EVENT_TYPE = 'customer.erased';

export const erasureEventId = (customerId: string): string => `${CUSTOMER_ERASED_EVENT_TYPE}:${customerId}`;

export const isErasureEvent = (event: Pick<CustomerEventV1, 'type'>): boolean =>
  event.type === CUSTOMER_ERASED_EVENT_TYPE;
