import { matchesConditions, type TimedMilestone } from '@mmp/program';
import { nextFire, type ScheduledFire, type TimedInputs } from './timed-milestones';
import { latestOf, type TimedSlot } from './timed-schedule';

/** What to do with a due schedule entry. */
export interface DueDecision {
  /** The occurrence to record and publish, or null (missed, or `where` not met). */
  fire: ScheduledFire | null;
  /** True when the profile no longer produces the entry (its timezone changed under it): rescheduled, not fired. */
  stale: boolean;
  /** True when the entry was missed by more than the grace period: skipped and counted, not sent late. */
  missed: boolean;
  /** The entry's next firing, or null to drop it (once-only kinds, no date any more). */
  next: ScheduledFire | null;
  /** The slot's new `handledThrough`: the entry's `fireAt` once it was fired, missed or skipped by `where`. */
  handledThrough: Date | null;
}

/**
 * Decides a due entry at `now`. One due longer ago than `graceMs` is skipped and counted rather
 * than sent late: the scheduler was down, the sandbox clock jumped far, or the event it comes
 * from arrived that late. Within the grace period it fires late.
 *
 * The entry is checked against the current profile only when the customer's latest event
 * happened before it came due: the event path recomputes such an entry from every event, so a
 * mismatch means something outside the events moved it (the program's default zone), and it is
 * rescheduled without firing. An entry due by the latest event's time was kept by that event as
 * scheduled, since it came due first: the newer profile must not cancel it (an inactivity whose
 * customer came back after it was due still fired in time).
 *
 * The next firing comes after the entry, the customer's latest event and `now - graceMs`, so
 * after a long gap the entry moves to the first moment still worth sending instead of replaying
 * every missed one.
 */
export function decideDue(
  milestone: TimedMilestone,
  due: ScheduledFire,
  slot: Pick<TimedSlot, 'handledThrough'>,
  inputs: TimedInputs,
  defaultZone: string,
  now: Date,
  graceMs: number,
): DueDecision {
  const earliestWorthSending = new Date(now.getTime() - graceMs - 1);
  const checkable = !inputs.scheduledFrom || due.fireAt.getTime() > inputs.scheduledFrom.getTime();
  const current = nextFire(milestone, inputs, defaultZone, new Date(due.fireAt.getTime() - 1));
  const stale =
    checkable &&
    (current?.occurrence !== due.occurrence || current.fireAt.getTime() !== due.fireAt.getTime());
  const missed = !stale && due.fireAt.getTime() <= earliestWorthSending.getTime();
  const fire = !stale && !missed && matchesConditions(milestone.where, inputs.profile) ? due : null;
  const handledThrough = stale ? slot.handledThrough : latestOf(slot.handledThrough, due.fireAt);
  const after = latestOf(
    stale ? null : due.fireAt,
    earliestWorthSending,
    inputs.scheduledFrom,
    handledThrough,
  );
  return {
    fire,
    missed,
    stale,
    next: nextFire(milestone, inputs, defaultZone, after ?? earliestWorthSending),
    handledThrough,
  };
}
