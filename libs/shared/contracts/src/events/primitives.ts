import { z } from 'zod';

/** ISO 8601 date-time that states its offset (`Z` or `+hh:mm`): a time without one is ambiguous. */
export const IsoDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with an offset',
});

/** Money as a decimal string (`"129.90"`): never a float. */
export const DecimalString = z
  .string()
  .regex(/^\d{1,13}(\.\d{1,4})?$/, 'must be a non-negative decimal string such as "129.90"');

export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as "USD"');

export const CustomerId = z.string().min(1).max(128);

export const Channel = z.enum(['email', 'sms', 'push']);
export type Channel = z.infer<typeof Channel>;
