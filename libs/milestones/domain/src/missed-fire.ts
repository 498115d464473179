import { matchesConditions, type TimedMilestone } from '@mmp/program';
import { nextFire, type ScheduledFire, type TimedInputs } from './timed-milestones';

/** What to do with a due schedule entry. */
export interface DueDecision {
  /** The occurrence to record and publish, or null (missed, or `where` not met). */
  fire: ScheduledFire | null;
  /** True when the profile changed since it was scheduled (new birthday, zone, a new event re-armed it). */
  stale: boolean;
  /** True when the entry was missed by more than the grace period: skipped and counted, not sent late. */
  missed: boolean;
  /** The entry's next firing, or null to drop it (once-only kinds, no date any more). */
  next: ScheduledFire | null;
}

/**
 * Decides a due entry at `now`. One late by more than `graceMs` (the scheduler was down, the
 * sandbox clock jumped far) is skipped rather than sent late. The next firing is computed from
 * the current profile and counted from no earlier than `now - graceMs`, so after a long gap
 * the entry moves to the first moment still worth sending instead of replaying every missed one.
 * An entry the current profile no longer produces (the birthday or zone changed, a new event
 * re-armed an inactivity) is stale: it is rescheduled, not fired.
 */
export function decideDue(
  milestone: TimedMilestone,
  due: ScheduledFire,
  inputs: TimedInputs,
  defaultZone: string,
  now: Date,
  graceMs: number,
): DueDecision {
  const earliestWorthSending = now.getTime() - graceMs;
  const current = nextFire(milestone, inputs, defaultZone, new Date(due.fireAt.getTime() - 1));
  const stale = current?.occurrence !== due.occurrence || current.fireAt.getTime() !== due.fireAt.getTime();
  const missed = !stale && due.fireAt.getTime() < earliestWorthSending;
  const fire = !stale && !missed && matchesConditions(milestone.where, inputs.profile) ? due : null;
  const after = new Date(
    stale ? earliestWorthSending - 1 : Math.max(due.fireAt.getTime(), earliestWorthSending - 1),
  );
  return { fire, missed, stale, next: nextFire(milestone, inputs, defaultZone, after) };
}
