import { z } from 'zod';
import { DecimalString, IsoDateTime } from './primitives';

/** Computed profile attributes of SPEC section 4, carried downstream so nobody calls ingestion back. */
export const ProfileAttributes = z.object({
  lifetimeOrders: z.number().int().nonnegative(),
  lifetimeValue: DecimalString,
  currency: z.string().nullable(),
  firstOrderAt: IsoDateTime.nullable(),
  lastOrderAt: IsoDateTime.nullable(),
  registeredAt: IsoDateTime.nullable(),
  /** How many events of each type the customer has, custom types included. */
  eventCounts: z.record(z.string(), z.number().int().nonnegative()),
});
export type ProfileAttributes = z.infer<typeof ProfileAttributes>;

export const CustomerProfileSnapshot = z.object({
  customerId: z.string(),
  traits: z.record(z.string(), z.unknown()),
  attributes: ProfileAttributes,
});
export type CustomerProfileSnapshot = z.infer<typeof CustomerProfileSnapshot>;
