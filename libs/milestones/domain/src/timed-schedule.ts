import type { CustomerEventV1 } from '@mmp/contracts';
import type { TimedMilestone } from '@mmp/program';
import { nextFire, timedInputsKey, type ScheduledFire, type TimedInputs } from './timed-milestones';

/** Where one customer's time-based milestone stands in the schedule. */
export interface TimedSlot {
  /** The next firing not handled yet (it may already be due), or null. */
  fire: ScheduledFire | null;
  /**
   * The `fireAt` of the latest firing the scheduler handled (fired, counted missed, or skipped
   * by `where`), or null: nothing at or before it is ever produced again, so a late event
   * neither repeats an occurrence nor counts a missed one twice.
   */
  handledThrough: Date | null;
}

/**
 * The moment an event schedules its customer's time-based milestones from: when it occurred,
 * capped at its arrival at ingestion (a client clock running ahead must not skip firings). An
 * event too old to trigger (`triggerable: false`, older than `maxTriggerAgeHours` on arrival)
 * counts from its arrival instead: a historical import neither fires what it predates nor
 * counts it as missed. The moment is in the event, not the time it is processed, so lag,
 * redelivery and batching cannot move it.
 */
export function scheduleAnchorOf(
  event: Pick<CustomerEventV1, 'occurredAt' | 'receivedAt' | 'triggerable'>,
): Date {
  const receivedAt = new Date(event.receivedAt).getTime();
  if (!event.triggerable) return new Date(receivedAt);
  return new Date(Math.min(new Date(event.occurredAt).getTime(), receivedAt));
}

/**
 * The customer's inputs after one more event: its profile, the latest time per event type,
 * and the latest anchor so far. Both times only move forward, so an event arriving after a
 * later one of the same customer is scheduled from that later one: per customer, the schedule
 * follows arrival order as the profile does.
 */
export function inputsAfter(previous: TimedInputs | null, event: CustomerEventV1): TimedInputs {
  const lastEventAt: Record<string, string> = { ...previous?.lastEventAt };
  const at = new Date(event.occurredAt).toISOString();
  const known = lastEventAt[event.type];
  if (known === undefined || known < at) lastEventAt[event.type] = at;
  return {
    profile: event.profile,
    lastEventAt,
    scheduledFrom: latestOf(previous?.scheduledFrom ?? null, scheduleAnchorOf(event)),
  };
}

/**
 * A slot's next firing once the customer's inputs became `inputs` (after an event). A firing
 * due at or before the customer's anchor came due before that event happened: the event cannot
 * change it, and it stays for the scheduler, which fires it (late, within the grace period) or
 * counts it missed. Otherwise the next firing is recomputed from the anchor, never at or before
 * what was handled, nor before `appliesFrom` (when the milestone joined the program). A result
 * already due is meant: it is a late arrival's firing, not one to skip.
 */
export function rescheduleOnEvent(
  milestone: TimedMilestone,
  slot: TimedSlot,
  inputs: TimedInputs,
  defaultZone: string,
  appliesFrom: Date | null,
): ScheduledFire | null {
  const anchor = inputs.scheduledFrom;
  if (!anchor) throw new Error('rescheduleOnEvent needs the inputs after an event (see inputsAfter)');
  if (slot.fire && slot.fire.fireAt.getTime() <= anchor.getTime()) return slot.fire;
  return nextFire(
    milestone,
    inputs,
    defaultZone,
    latestOf(anchor, slot.handledThrough, appliesFrom) ?? anchor,
  );
}

/** One customer's inputs and time-based slots after their events, applied in arrival order. */
export interface CustomerSchedule {
  inputs: TimedInputs;
  /** By milestone key: the slot's next firing after the events (null: none). */
  fires: Map<string, ScheduledFire | null>;
}

/**
 * Applies one customer's events (in arrival order) to their time-based slots, event by event,
 * so the result is the same whether they come one at a time or in batches of any size.
 * `appliesFrom` gives, by milestone key, the moment it joined the program (none: all history).
 */
export function scheduleCustomerEvents(
  milestones: readonly TimedMilestone[],
  previous: TimedInputs | null,
  slots: ReadonlyMap<string, TimedSlot>,
  events: readonly CustomerEventV1[],
  appliesFrom: ReadonlyMap<string, Date>,
  defaultZone: string,
): CustomerSchedule {
  const fires = new Map<string, ScheduledFire | null>();
  const keys = new Map<string, string>();
  let inputs = previous;
  for (const event of events) {
    inputs = inputsAfter(inputs, event);
    for (const milestone of milestones) {
      const key = timedInputsKey(milestone, inputs, defaultZone);
      // Same inputs as after the previous event of this batch: the slot stands. Either it was
      // due by then (and so by now: anchors only grow), or it is the first firing after the
      // earlier anchor and still later than this one, so also the first after this one.
      if (keys.get(milestone.key) === key) continue;
      keys.set(milestone.key, key);
      const slot = slots.get(milestone.key);
      const current: TimedSlot = {
        fire: fires.has(milestone.key) ? (fires.get(milestone.key) ?? null) : (slot?.fire ?? null),
        handledThrough: slot?.handledThrough ?? null,
      };
      fires.set(
        milestone.key,
        rescheduleOnEvent(milestone, current, inputs, defaultZone, appliesFrom.get(milestone.key) ?? null),
      );
    }
  }
  if (!inputs) throw new Error('scheduleCustomerEvents needs at least one event');
  return { inputs, fires };
}

/** Two firings that are the same entry of the schedule. */
export function sameFire(a: ScheduledFire | null, b: ScheduledFire | null): boolean {
  if (a === null || b === null) return a === b;
  return a.occurrence === b.occurrence && a.fireAt.getTime() === b.fireAt.getTime();
}

/** The latest of some moments, ignoring nulls; null when all are. */
export function latestOf(...moments: (Date | null)[]): Date | null {
  let latest: Date | null = null;
  for (const moment of moments) {
    if (moment && (!latest || moment.getTime() > latest.getTime())) latest = moment;
  }
  return latest;
}
