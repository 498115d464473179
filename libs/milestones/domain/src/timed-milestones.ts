import type { CustomerProfileSnapshot } from '@mmp/contracts';
import type {
  AfterMilestone,
  AnniversaryMilestone,
  InactivityMilestone,
  MilestoneDate,
  TimedMilestone,
} from '@mmp/program';
import {
  addDays,
  localDateOf,
  localInstant,
  parseBirthday,
  sameDayIn,
  zoneOf,
  type LocalDate,
} from './local-time';

/** What a time-based milestone needs to know about a customer. */
export interface TimedInputs {
  profile: CustomerProfileSnapshot;
  /** The latest `occurredAt` per event type (for `inactivity`), ISO 8601. */
  lastEventAt: Readonly<Record<string, string>>;
  /**
   * The latest moment the customer's events have been seen at (see `scheduleAnchorOf`): the
   * schedule is computed from there, never from when the events happened to be processed.
   * Null before any event (and for snapshots stored before it was kept).
   */
  scheduledFrom: Date | null;
}

/** The next time a milestone fires for a customer, and which occurrence that is. */
export interface ScheduledFire {
  fireAt: Date;
  occurrence: string;
  context: { years?: number; days?: number };
}

/**
 * The first firing of `milestone` strictly after `after`, or null when there is none (no date
 * on the profile, an `after` or `inactivity` moment already past). Times are local wall-clock
 * times in the customer's zone (the program's default otherwise). `after` is a moment of the
 * customer's history (see `rescheduleOnEvent`), so moments before it are never produced.
 */
export function nextFire(
  milestone: TimedMilestone,
  inputs: TimedInputs,
  defaultZone: string,
  after: Date,
): ScheduledFire | null {
  const zone = zoneOf(inputs.profile, defaultZone);
  switch (milestone.kind) {
    case 'anniversary':
      return nextAnniversary(milestone, inputs.profile, zone, after);
    case 'after':
      return nextAfter(milestone, inputs.profile, zone, after);
    case 'inactivity':
      return nextInactivity(milestone, inputs, zone, after);
  }
}

/**
 * What `nextFire` reads of the inputs for `milestone`, as a string: equal keys give the same
 * firing for the same `after`, so a customer event that changes none of it cannot move it.
 */
export function timedInputsKey(milestone: TimedMilestone, inputs: TimedInputs, defaultZone: string): string {
  const zone = zoneOf(inputs.profile, defaultZone);
  switch (milestone.kind) {
    case 'anniversary':
    case 'after':
      return JSON.stringify([
        zone,
        milestone.date === 'birthday'
          ? (inputs.profile.traits['birthday'] ?? null)
          : inputs.profile.attributes[milestone.date],
      ]);
    case 'inactivity':
      return JSON.stringify([zone, lastEventOf(milestone, inputs)]);
  }
}

/** The anniversary's month/day and the first year it fires, from the profile date it counts from. */
function anniversaryOrigin(
  date: MilestoneDate,
  profile: CustomerProfileSnapshot,
  zone: string,
): { month: number; day: number; firstYear: number; sinceYear: number | null } | null {
  if (date === 'birthday') {
    const birthday = parseBirthday(profile.traits['birthday']);
    if (!birthday) return null;
    const firstYear = birthday.year === null ? Number.NEGATIVE_INFINITY : birthday.year + 1;
    return { month: birthday.month, day: birthday.day, firstYear, sinceYear: birthday.year };
  }
  const instant = profile.attributes[date];
  if (instant === null) return null;
  // registeredAt / firstOrderAt are instants: their anniversary is the local date they fell on.
  const origin = localDateOf(new Date(instant), zone);
  return { month: origin.month, day: origin.day, firstYear: origin.year + 1, sinceYear: origin.year };
}

function nextAnniversary(
  milestone: AnniversaryMilestone,
  profile: CustomerProfileSnapshot,
  zone: string,
  after: Date,
): ScheduledFire | null {
  const origin = anniversaryOrigin(milestone.date, profile, zone);
  if (!origin) return null;
  // No zone is more than 14 hours off UTC, so the local year at `after` is UTC's, or the one
  // before during UTC's 1 January. Trying a year too early costs a step, never a wrong answer:
  // the first firing strictly after `after` is kept.
  const utcYear = after.getUTCFullYear();
  const isUtcNewYearsDay = after.getUTCMonth() === 0 && after.getUTCDate() === 1;
  const fromYear = Math.max(isUtcNewYearsDay ? utcYear - 1 : utcYear, origin.firstYear);
  for (let year = fromYear; year <= fromYear + 2; year++) {
    const fireAt = localInstant(sameDayIn(year, origin.month, origin.day), milestone.at, zone);
    if (fireAt.getTime() > after.getTime()) {
      const context = origin.sinceYear === null ? {} : { years: year - origin.sinceYear };
      return { fireAt, occurrence: String(year), context };
    }
  }
  return null;
}

function nextAfter(
  milestone: AfterMilestone,
  profile: CustomerProfileSnapshot,
  zone: string,
  after: Date,
): ScheduledFire | null {
  const origin = originDate(milestone.date, profile, zone);
  if (!origin) return null;
  const fireAt = localInstant(addDays(origin, milestone.days), milestone.at, zone);
  if (fireAt.getTime() <= after.getTime()) return null;
  // Fires once per customer, so the occurrence is a constant.
  return { fireAt, occurrence: '1', context: { days: milestone.days } };
}

function originDate(date: MilestoneDate, profile: CustomerProfileSnapshot, zone: string): LocalDate | null {
  if (date === 'birthday') {
    const birthday = parseBirthday(profile.traits['birthday']);
    return birthday?.year == null ? null : { year: birthday.year, month: birthday.month, day: birthday.day };
  }
  const instant = profile.attributes[date];
  return instant === null ? null : localDateOf(new Date(instant), zone);
}

function nextInactivity(
  milestone: InactivityMilestone,
  inputs: TimedInputs,
  zone: string,
  after: Date,
): ScheduledFire | null {
  const last = lastEventOf(milestone, inputs);
  if (last === null) return null;
  const lastAt = new Date(last);
  const fireAt = localInstant(addDays(localDateOf(lastAt, zone), milestone.days), milestone.at, zone);
  if (fireAt.getTime() <= after.getTime()) return null;
  // Each quiet spell is its own occurrence, named by the event that started it.
  return { fireAt, occurrence: lastAt.toISOString(), context: { days: milestone.days } };
}

/** The time of the last event an inactivity counts from (the profile's lastOrderAt for orders). */
function lastEventOf(milestone: InactivityMilestone, inputs: TimedInputs): string | null {
  return (
    inputs.lastEventAt[milestone.event] ??
    (milestone.event === 'order.placed' ? inputs.profile.attributes.lastOrderAt : null)
  );
}
