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
