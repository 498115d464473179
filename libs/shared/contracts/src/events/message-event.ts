import { z } from 'zod';
import { Channel, IsoDateTime } from './primitives';

/** Message statuses of SPEC section 6. */
export const MessageStatus = z.enum([
  'queued',
  'sent',
  'delivered',
  'opened',
  'clicked',
  'bounced',
  'failed',
  'suppressed',
]);
export type MessageStatus = z.infer<typeof MessageStatus>;

/** Reasons for `suppressed` and `failed`; open-ended, these are the documented ones. */
export const KnownMessageReasons = [
  'consent',
  'suppression_list',
  'frequency_cap',
  'missing_address',
  'render_error',
  'provider_rejected',
  'outcome_unknown',
  /** Delivery: retryable provider errors until the retry budget ran out (the message is dead-lettered). */
  'retries_exhausted',
  'template_missing',
  /** Receipts: `permanent_bounce:<subType>`, `transient_bounce:<subType>`, a provider code (`twilio_30005`). */
  'permanent_bounce',
  'transient_bounce',
  /** An email complaint: published with the message's current status, for consent to opt out. */
  'complaint',
] as const;

export const MessageEventV1 = z.object({
  schemaVersion: z.literal(1),
  messageId: z.string(),
  customerId: z.string(),
  journeyKey: z.string(),
  stepId: z.string(),
  milestoneKey: z.string(),
  channel: Channel,
  template: z.string(),
  variant: z.string().nullable(),
  status: MessageStatus,
  reason: z.string().nullable(),
  occurredAt: IsoDateTime,
  /** The address that bounced, on `bounced` events only: consent suppresses it. */
  address: z.string().nullable().optional(),
});
export type MessageEventV1 = z.infer<typeof MessageEventV1>;
