import { z } from 'zod';
import { Channel, IsoDateTime } from './primitives';

export const ConsentStatus = z.enum(['opted_in', 'opted_out']);
export type ConsentStatus = z.infer<typeof ConsentStatus>;

export const ConsentChangeV1 = z.object({
  schemaVersion: z.literal(1),
  changeId: z.string(),
  customerId: z.string(),
  channel: Channel,
  status: ConsentStatus,
  /** Where the change came from: `api`, `unsubscribe_link`, `sms_keyword`, `complaint`... */
  source: z.string(),
  actor: z.string().nullable(),
  changedAt: IsoDateTime,
  /**
   * Set for the suppression list: the change concerns this one address on `channel` (a
   * permanent bounce suppresses it), not the customer's consent for the channel. Absent or
   * null for consent changes.
   */
  address: z.string().nullable().optional(),
});
export type ConsentChangeV1 = z.infer<typeof ConsentChangeV1>;

/**
 * The form an address takes on the suppression list (`address` of consent.changes.v1): email
 * addresses compare case-insensitively, as providers treat them; phone numbers (E.164) and
 * push tokens exactly. Producers and consumers both compare addresses in this form.
 */
export function suppressionAddress(channel: Channel, address: string): string {
  const trimmed = address.trim();
  return channel === 'email' ? trimmed.toLowerCase() : trimmed;
}
