import { CLOCK, type Clock } from '@mmp/clock';
import type { MilestoneReachedV1 } from '@mmp/contracts';
import { decideDue, occurrenceIdOf } from '@mmp/milestones-domain';
import { withTransaction } from '@mmp/persistence';
import { isTimedMilestone, parseDuration, ProgramStore, type TimedMilestone } from '@mmp/program';
import { Inject, Injectable } from '@nestjs/common';
import { OccurrenceStore, type OccurrenceToRecord } from '../../store/occurrence.store';
import { ScheduleStore, type SettledEntry } from '../../store/schedule.store';
import { PublishOccurrencesUsecase } from '../publish-occurrences/publish-occurrences.usecase';
import { missedMilestonesCounter } from './missed-milestones.metric';

export const DUE_MILESTONES_PER_CLAIM = 1000;

/** What one claim did, for the scheduler's loop and for tests. */
export interface FiredClaim {
  claimed: number;
  fired: number;
  missed: number;
}

/**
 * Fires the time-based milestones due now. One transaction claims the due entries (skipping
 * those another instance holds), records their occurrences and moves each entry to its next
 * firing, so an entry fires once whichever instance claims it; publishing follows the commit.
 */
@Injectable()
export class FireDueMilestonesUsecase {
  private readonly missedCounter = missedMilestonesCounter();

  constructor(
    private readonly schedule: ScheduleStore,
    private readonly occurrences: OccurrenceStore,
    private readonly publisher: PublishOccurrencesUsecase,
    private readonly program: ProgramStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async fireOnce(limit = DUE_MILESTONES_PER_CLAIM): Promise<FiredClaim> {
    const now = this.clock.now();
    // Read on every claim: a replaced program applies at once, a removed milestone stops here.
    const { milestones, policies } = this.program.current();
    const timed = new Map<string, TimedMilestone>(milestones.filter(isTimedMilestone).map((m) => [m.key, m]));
    const graceMs = parseDuration(policies.milestoneGracePeriod);
    const missed = new Map<string, number>();

    const { claimed, messages } = await withTransaction(this.schedule.db, async (tx) => {
      const due = await this.schedule.claimDue(tx, now, limit);
      const fired: OccurrenceToRecord[] = [];
      const settled: SettledEntry[] = [];
      const dropped: { customerId: string; milestoneKey: string }[] = [];
      for (const entry of due) {
        const milestone = timed.get(entry.milestoneKey);
        if (!milestone) {
          dropped.push(entry);
          continue;
        }
        const decision = decideDue(
          milestone,
          entry.fire,
          entry,
          entry.inputs,
          policies.timezone,
          now,
          graceMs,
        );
        if (decision.missed) missed.set(milestone.key, (missed.get(milestone.key) ?? 0) + 1);
        if (decision.fire) {
          fired.push({
            profile: entry.inputs.profile,
            occurrence: {
              occurrenceId: occurrenceIdOf(milestone.key, entry.customerId, decision.fire.occurrence),
              milestoneKey: milestone.key,
              customerId: entry.customerId,
              occurrence: decision.fire.occurrence,
              reachedAt: now,
              context: decision.fire.context,
              causeEventId: null,
            },
          });
        }
        settled.push({
          customerId: entry.customerId,
          milestoneKey: entry.milestoneKey,
          next: decision.next,
          handledThrough: decision.handledThrough,
        });
      }
      await this.schedule.settle(tx, settled);
      await this.schedule.remove(tx, dropped);
      const recorded: MilestoneReachedV1[] = await this.occurrences.record(tx, fired);
      return { claimed: due.length, messages: recorded };
    });
    for (const [milestoneKey, count] of missed) this.missedCounter.inc({ milestone: milestoneKey }, count);
    await this.publisher.publish(messages);
    const missedTotal = [...missed.values()].reduce((sum, count) => sum + count, 0);
    return { claimed, fired: messages.length, missed: missedTotal };
  }
}
