import { z } from 'zod';
import { CUSTOMER_ERASED_EVENT_TYPE } from './customer-event';
import { CurrencyCode, CustomerId, DecimalString, IsoDateTime } from './primitives';

/** The input event of SPEC section 4, as retailers send it over HTTP or on `retail.events.v1`. */

const ShortText = z.string().max(1024, 'must be at most 1024 characters');
/**
 * Building an Intl.DateTimeFormat costs about a millisecond, and a batch of 1000 registrations
 * names a handful of zones: answers are remembered, for a bounded number of zones so that a
 * stream of made-up names cannot grow the cache.
 */
const timeZoneAnswers = new Map<string, boolean>();
/** Whether `zone` is an IANA time zone; answers are cached (a check builds an Intl formatter). */
export const isValidTimeZone = (zone: string): boolean => {
  const known = timeZoneAnswers.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = zone.length > 0;
  } catch {
    valid = false;
  }
  if (timeZoneAnswers.size < 1000) timeZoneAnswers.set(zone, valid);
  return valid;
};
const isValidBirthday = (value: string): boolean => {
  const m = /^(\d{4}|-)-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const year = m[1] === '-' ? 2000 : Number(m[1]); // 2000 is a leap year, so --02-29 is valid
  const month = Number(m[2]);
  const day = Number(m[3]);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
};

export const KnownTraits = {
  email: z.email({ error: 'must be an email address' }).max(254).nullable(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as "+14155550100"')
    .nullable(),
  firstName: ShortText.nullable(),
  lastName: ShortText.nullable(),
  birthday: z.string().refine(isValidBirthday, 'must be a date as YYYY-MM-DD or --MM-DD').nullable(),
  timezone: z
    .string()
    .refine(isValidTimeZone, 'must be an IANA time zone such as "America/New_York"')
    .nullable(),
  locale: z
    .string()
    .regex(/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$/, 'must be a locale such as "en-US"')
    .nullable(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"')
    .nullable(),
};

/** Custom trait values: scalars only, bounded, so a profile never balloons. */
const CustomTraitValue = z.union([ShortText, z.number(), z.boolean(), z.null()]);

/**
 * `pushTokens` is kept by the push.token.* events (per token, by time), so a trait of that name,
 * or under its per-token keys, would make the profile depend on arrival order.
 */
const isReservedTraitKey = (key: string): boolean => key === 'pushTokens' || key.startsWith('pushTokens/');

export const Traits = z
  .object(KnownTraits)
  .partial()
  .catchall(CustomTraitValue)
  .refine((t) => Object.keys(t).length <= 100, 'must have at most 100 traits')
  .superRefine((traits, ctx) => {
    for (const key of Object.keys(traits).filter(isReservedTraitKey)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'is kept by push.token.registered and push.token.unregistered events, not set as a trait',
      });
    }
  });
export type Traits = z.infer<typeof Traits>;

export const OrderItem = z.object({
  sku: ShortText.min(1),
  name: ShortText.optional(),
  category: ShortText.optional(),
  quantity: z.number().int().positive(),
  price: DecimalString,
});

const PushToken = z.string().min(1, 'must be a push token').max(4096, 'must be at most 4096 characters');

/** Required properties per known event type; any other type is a custom event. */
export const KnownEventProperties = {
  'customer.registered': z.object({}).passthrough(),
  'customer.updated': z.object({}).passthrough(),
  'identity.linked': z.object({}).passthrough(),
  'order.placed': z
    .object({
      orderId: ShortText.min(1),
      total: DecimalString,
      currency: CurrencyCode,
      items: z.array(OrderItem).max(500).optional(),
      discountCode: ShortText.optional(),
    })
    .passthrough(),
  'order.refunded': z
    .object({ orderId: ShortText.min(1), amount: DecimalString, currency: CurrencyCode })
    .passthrough(),
  'order.delivered': z.object({ orderId: ShortText.min(1) }).passthrough(),
  'product.viewed': z.object({ sku: ShortText.min(1) }).passthrough(),
  'cart.abandoned': z.object({ cartId: ShortText.min(1) }).passthrough(),
  'push.token.registered': z
    .object({ token: PushToken, platform: z.enum(['ios', 'android', 'web']) })
    .passthrough(),
  /** The app or a provider (delivery, when FCM reports the token gone) says the token is dead. */
  'push.token.unregistered': z.object({ token: PushToken, reason: ShortText.optional() }).passthrough(),
} as const;
export type KnownEventType = keyof typeof KnownEventProperties;
export const isKnownEventType = (type: string): type is KnownEventType =>
  Object.hasOwn(KnownEventProperties, type);

export const EventType = z
  .string()
  .max(128)
  .regex(
    /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/,
    'must look like "order.placed": lowercase words joined by dots',
  );

const JsonBounded = z
  .record(z.string().max(128), z.unknown())
  .refine((value) => JSON.stringify(value).length <= 64 * 1024, 'must be at most 64 KB as JSON');

export const RetailEventV1 = z
  .object({
    eventId: z.string().min(1, 'must be 1-128 characters').max(128, 'must be 1-128 characters'),
    type: EventType,
    occurredAt: IsoDateTime,
    customerId: CustomerId.optional(),
    anonymousId: CustomerId.optional(),
    traits: Traits.optional(),
    properties: JsonBounded.optional(),
  })
  .superRefine((event, ctx) => {
    if (!event.customerId && !event.anonymousId) {
      ctx.addIssue({
        code: 'custom',
        path: ['customerId'],
        message: 'customerId or anonymousId is required',
      });
    }
    if (event.type === 'identity.linked' && !(event.customerId && event.anonymousId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['anonymousId'],
        message: 'identity.linked needs both customerId and anonymousId',
      });
    }
    if (event.type === CUSTOMER_ERASED_EVENT_TYPE) {
      // Downstream services erase personal data on this type: only DELETE /v1/customers/{id} may cause it.
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `${CUSTOMER_ERASED_EVENT_TYPE} is reserved for the platform's erasure event`,
      });
    }
    if (isKnownEventType(event.type)) {
      const result = KnownEventProperties[event.type].safeParse(event.properties ?? {});
      if (!result.success) {
        for (const issue of result.error.issues) {
          ctx.addIssue({ code: 'custom', path: ['properties', ...issue.path], message: issue.message });
        }
      }
    }
  });
export type RetailEventV1 = z.infer<typeof RetailEventV1>;
