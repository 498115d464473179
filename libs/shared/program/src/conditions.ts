import type { CustomerProfileSnapshot } from '@mmp/contracts';
import { EventType } from '@mmp/contracts';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { parseNested } from './issues';

/**
 * Profile conditions: the `where:` of a milestone and the profile form of a branch's `if:`.
 *
 * A mapping from a profile field to the tests it must pass; every test of every field must hold.
 *
 * ```yaml
 * where:
 *   traits.country: { in: [US, CA] }
 *   attributes.lifetimeOrders: { gte: 1 }
 *   traits.vip: { exists: true }
 * ```
 *
 * Fields:
 * - `traits.<name>`: a trait (`traits.country`, `traits.locale`, or a custom trait such as `traits.tier`).
 * - `attributes.<name>`: a computed attribute: `lifetimeOrders`, `lifetimeValue`, `currency`,
 *   `firstOrderAt`, `lastOrderAt`, `registeredAt`.
 * - `attributes.eventCounts.<event type>`: how many events of that type the customer has (0 when none).
 *
 * Operators:
 * - `eq`, `ne`: equal / not equal to a string, number or boolean. A number matches a decimal
 *   string of the same value (`lifetimeValue: { eq: 100 }` matches `"100.00"`).
 * - `in`: equal to one of a list.
 * - `gte`, `lte`: at least / at most. A number compares numerically (decimal strings included);
 *   a string compares as a date-time when both sides are ISO 8601, otherwise alphabetically.
 * - `exists`: `true` when the field has a value (not absent, not null), `false` when it has none.
 *
 * A field the customer does not have fails every test except `ne` and `exists: false`.
 */

export const ConditionValue = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, a number or true/false',
});
export type ConditionValue = z.infer<typeof ConditionValue>;

const Comparable = z.union([z.string(), z.number()], { error: 'must be a number or a string' });

export const OPERATORS = ['eq', 'ne', 'in', 'gte', 'lte', 'exists'] as const;

export const FieldCondition = z
  .strictObject({
    eq: ConditionValue.optional(),
    ne: ConditionValue.optional(),
    in: z.array(ConditionValue).min(1, 'must list at least one value').optional(),
    gte: Comparable.optional(),
    lte: Comparable.optional(),
    exists: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .refine((condition) => OPERATORS.some((op) => condition[op] !== undefined), {
    message: `must use at least one of the operators ${OPERATORS.join(', ')}`,
    // An unknown operator is reported as such; "no operator" would only repeat it.
    when: (payload) => payload.issues.length === 0,
  });
export type FieldCondition = z.infer<typeof FieldCondition>;

export const ATTRIBUTE_FIELDS = [
  'lifetimeOrders',
  'lifetimeValue',
  'currency',
  'firstOrderAt',
  'lastOrderAt',
  'registeredAt',
] as const;

const TRAIT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const EVENT_COUNT_PREFIX = 'attributes.eventCounts.';

const FIELD_RULE =
  'is not a profile field: use traits.<name>, attributes.<' +
  ATTRIBUTE_FIELDS.join('|') +
  '> or attributes.eventCounts.<event type>';

/** Whether `path` names a profile field a condition may test. */
export function isProfileField(path: string): boolean {
  if (path.startsWith('traits.')) return TRAIT_NAME.test(path.slice('traits.'.length));
  if (path.startsWith(EVENT_COUNT_PREFIX))
    return EventType.safeParse(path.slice(EVENT_COUNT_PREFIX.length)).success;
  if (path.startsWith('attributes.')) {
    const name = path.slice('attributes.'.length);
    return ATTRIBUTE_FIELDS.some((field) => field === name);
  }
  return false;
}

export type Conditions = Record<string, FieldCondition>;

/** Parses a conditions mapping, reporting each bad field name at its key and each bad test under it. */
function parseConditions(
  value: Record<string, unknown>,
  ctx: z.core.$RefinementCtx<unknown>,
): Conditions | undefined {
  const out: Conditions = {};
  let ok = true;
  for (const [field, test] of Object.entries(value)) {
    if (!isProfileField(field)) {
      ctx.addIssue({ code: 'custom', path: [field], message: FIELD_RULE, params: { at: 'key' } });
      ok = false;
      continue;
    }
    const parsed = parseNested(FieldCondition, test, ctx, [field]);
    if (parsed) out[field] = parsed;
    else ok = false;
  }
  return ok ? out : undefined;
}

const ConditionsInput = z.record(z.string(), z.unknown(), {
  error: 'must be a mapping of profile fields to tests',
});

/** A `where:` mapping: at least one field, each with at least one test. */
export const Conditions = ConditionsInput.transform((value, ctx): Conditions => {
  if (Object.keys(value).length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must name at least one profile field' });
    return z.NEVER;
  }
  return parseConditions(value, ctx) ?? z.NEVER;
});

/** The event form of a branch condition: the customer had this event since entering the journey. */
export interface EventSinceEntryCondition {
  eventSinceEntry: string;
}

/** A branch's `if:`: `{ eventSinceEntry: <event type> }` or profile conditions as in `where:`. */
export type BranchCondition = EventSinceEntryCondition | Conditions;

export const BranchCondition = ConditionsInput.transform((value, ctx): BranchCondition => {
  const keys = Object.keys(value);
  if (!keys.includes('eventSinceEntry')) {
    if (keys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be { eventSinceEntry: <event type> } or profile conditions such as { traits.country: { eq: US } }',
      });
      return z.NEVER;
    }
    return parseConditions(value, ctx) ?? z.NEVER;
  }
  let ok = true;
  for (const key of keys) {
    if (key === 'eventSinceEntry') continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: 'cannot be combined with eventSinceEntry: use a second branch step for profile conditions',
      params: { at: 'key' },
    });
    ok = false;
  }
  const event = parseNested(EventType, value['eventSinceEntry'], ctx, ['eventSinceEntry']);
  return ok && event !== undefined ? { eventSinceEntry: event } : z.NEVER;
});

/** Narrows a branch condition to its event form. */
export function isEventSinceEntry(condition: BranchCondition): condition is EventSinceEntryCondition {
  return typeof condition['eventSinceEntry'] === 'string';
}

/** The part of a profile conditions read. */
export type ConditionProfile = Pick<CustomerProfileSnapshot, 'traits' | 'attributes'>;

/** The value of a profile field (`traits.country`, `attributes.eventCounts.order.placed`), undefined when absent. */
export function readProfileField(profile: ConditionProfile, field: string): unknown {
  if (field.startsWith('traits.')) return profile.traits[field.slice('traits.'.length)] ?? undefined;
  if (field.startsWith(EVENT_COUNT_PREFIX))
    return profile.attributes.eventCounts[field.slice(EVENT_COUNT_PREFIX.length)] ?? 0;
  switch (field) {
    case 'attributes.lifetimeOrders':
      return profile.attributes.lifetimeOrders;
    case 'attributes.lifetimeValue':
      return profile.attributes.lifetimeValue;
    case 'attributes.currency':
      return profile.attributes.currency ?? undefined;
    case 'attributes.firstOrderAt':
      return profile.attributes.firstOrderAt ?? undefined;
    case 'attributes.lastOrderAt':
      return profile.attributes.lastOrderAt ?? undefined;
    case 'attributes.registeredAt':
      return profile.attributes.registeredAt ?? undefined;
    default:
      return undefined;
  }
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

function equals(actual: unknown, expected: ConditionValue): boolean {
  if (typeof expected === 'number') return asNumber(actual) === expected;
  return actual === expected;
}

/** -1, 0, 1, or undefined when the two cannot be compared. */
function compare(actual: unknown, bound: string | number): number | undefined {
  if (typeof bound === 'number') {
    const value = asNumber(actual);
    return value === undefined ? undefined : Math.sign(value - bound);
  }
  if (typeof actual !== 'string') return undefined;
  const a = DateTime.fromISO(actual, { setZone: true });
  const b = DateTime.fromISO(bound, { setZone: true });
  if (a.isValid && b.isValid) return Math.sign(a.toMillis() - b.toMillis());
  return actual < bound ? -1 : actual > bound ? 1 : 0;
}

function passes(actual: unknown, condition: FieldCondition): boolean {
  const present = actual !== undefined && actual !== null;
  if (condition.exists !== undefined && condition.exists !== present) return false;
  if (condition.eq !== undefined && !equals(actual, condition.eq)) return false;
  if (condition.ne !== undefined && equals(actual, condition.ne)) return false;
  if (condition.in !== undefined && !condition.in.some((value) => equals(actual, value))) return false;
  if (condition.gte !== undefined) {
    const order = compare(actual, condition.gte);
    if (order === undefined || order < 0) return false;
  }
  if (condition.lte !== undefined) {
    const order = compare(actual, condition.lte);
    if (order === undefined || order > 0) return false;
  }
  return true;
}

/** Whether a profile passes every test of every field (no conditions: true). */
export function matchesConditions(conditions: Conditions | undefined, profile: ConditionProfile): boolean {
  if (!conditions) return true;
  return Object.entries(conditions).every(([field, condition]) =>
    passes(readProfileField(profile, field), condition),
  );
}
