import { EventType } from '@mmp/contracts';
import { z } from 'zod';
import { Conditions } from './conditions';
import { Key, PositiveInt, TimeOfDay } from './primitives';

/**
 * Milestone definitions (SPEC section 5), one schema per `kind`. Every kind has a `key` and may
 * carry `where:` profile conditions (see conditions.ts) the customer must meet when it fires.
 */

/** Fields every kind accepts besides its key (written last so a stringified program reads key, kind, ...). */
const common = {
  where: Conditions.optional(),
  description: z.string().optional(),
};

/** A profile date a time-based milestone counts from. */
export const MilestoneDate = z.enum(['birthday', 'registeredAt', 'firstOrderAt']);
export type MilestoneDate = z.infer<typeof MilestoneDate>;

/** The attributes a `threshold` watches: a computed number or the count of an event type. */
export const THRESHOLD_ATTRIBUTES = ['lifetimeOrders', 'lifetimeValue'] as const;
const THRESHOLD_RULE = `must be ${THRESHOLD_ATTRIBUTES.join(', ')} or eventCounts.<event type>`;

export const ThresholdAttribute = z
  .string({ error: THRESHOLD_RULE })
  .refine(
    (name) =>
      THRESHOLD_ATTRIBUTES.some((attribute) => attribute === name) ||
      (name.startsWith('eventCounts.') && EventType.safeParse(name.slice('eventCounts.'.length)).success),
    { message: THRESHOLD_RULE },
  );

/** The customer's nth event of a type, once. */
export const NthEventMilestone = z.strictObject({
  key: Key,
  kind: z.literal('nth_event'),
  event: EventType,
  n: PositiveInt,
  ...common,
});
export type NthEventMilestone = z.infer<typeof NthEventMilestone>;

/** An attribute crosses `gte` upward; with `rearm`, again after it fell below and crossed again. */
export const ThresholdMilestone = z.strictObject({
  key: Key,
  kind: z.literal('threshold'),
  attribute: ThresholdAttribute,
  gte: z.number(),
  rearm: z.boolean().default(false),
  ...common,
});
export type ThresholdMilestone = z.infer<typeof ThresholdMilestone>;

/** Yearly on the local date at `at` (registeredAt/firstOrderAt from the first anniversary). */
export const AnniversaryMilestone = z.strictObject({
  key: Key,
  kind: z.literal('anniversary'),
  date: MilestoneDate,
  at: TimeOfDay,
  ...common,
});
export type AnniversaryMilestone = z.infer<typeof AnniversaryMilestone>;

/** Once, `days` after a date, at `at` local time. */
export const AfterMilestone = z.strictObject({
  key: Key,
  kind: z.literal('after'),
  date: MilestoneDate,
  days: PositiveInt,
  at: TimeOfDay,
  ...common,
});
export type AfterMilestone = z.infer<typeof AfterMilestone>;

/** `days` after the last `event`, at `at` local time; a new such event re-arms it. */
export const InactivityMilestone = z.strictObject({
  key: Key,
  kind: z.literal('inactivity'),
  event: EventType,
  days: PositiveInt,
  at: TimeOfDay,
  ...common,
});
export type InactivityMilestone = z.infer<typeof InactivityMilestone>;

/** `n` events within `withinDays`, then silent for that window. */
export const WindowedCountMilestone = z.strictObject({
  key: Key,
  kind: z.literal('windowed_count'),
  event: EventType,
  n: PositiveInt,
  withinDays: PositiveInt,
  ...common,
});
export type WindowedCountMilestone = z.infer<typeof WindowedCountMilestone>;

export const MilestoneDefinition = z.discriminatedUnion('kind', [
  NthEventMilestone,
  ThresholdMilestone,
  AnniversaryMilestone,
  AfterMilestone,
  InactivityMilestone,
  WindowedCountMilestone,
]);
export type MilestoneDefinition = z.infer<typeof MilestoneDefinition>;
export type MilestoneKind = MilestoneDefinition['kind'];

/** The kinds that fire at a local time rather than on an event. */
export type TimedMilestone = AnniversaryMilestone | AfterMilestone | InactivityMilestone;

export function isTimedMilestone(milestone: MilestoneDefinition): milestone is TimedMilestone {
  switch (milestone.kind) {
    case 'anniversary':
    case 'after':
    case 'inactivity':
      return true;
    case 'nth_event':
    case 'threshold':
    case 'windowed_count':
      return false;
  }
}
