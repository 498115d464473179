import { z } from 'zod';
import { CustomerProfileSnapshot } from './customer-profile';
import { Channel, IsoDateTime } from './primitives';

export const MessageRequestedV1 = z.object({
  schemaVersion: z.literal(1),
  /** Deterministic (journey instance + step): the idempotency key for sending. A redelivery never sends twice. */
  messageId: z.string(),
  customerId: z.string(),
  journeyKey: z.string(),
  journeyVersion: z.string(),
  instanceId: z.string(),
  stepId: z.string(),
  milestoneKey: z.string(),
  occurrenceId: z.string(),
  template: z.string(),
  /** The template's channel, as the program said when the step ran. */
  channel: Channel,
  variant: z.string().nullable(),
  requestedAt: IsoDateTime,
  /**
   * Set when journeys decided the message must not go out (a frequency cap, a lost priority
   * collision): delivery records it as `suppressed` with this reason and calls no provider, so
   * every decision shows in the customer's message list.
   */
  suppressedReason: z.string().min(1).nullable().optional(),
  milestone: z.object({ key: z.string(), occurrence: z.string() }).catchall(z.unknown()),
  offer: z.record(z.string(), z.unknown()).nullable(),
  customer: CustomerProfileSnapshot,
});
export type MessageRequestedV1 = z.infer<typeof MessageRequestedV1>;
