import { CLOCK, type Clock } from '@mmp/clock';
import { PollingWorker } from '@mmp/server';
import { Inject, Injectable } from '@nestjs/common';
import { AppliedEventStore } from '../../store/applied-event.store';
import { CoverProgramUsecase } from '../cover-program/cover-program.usecase';
import {
  PublishOccurrencesUsecase,
  STALE_OCCURRENCES_PER_CLAIM,
} from '../publish-occurrences/publish-occurrences.usecase';
import { DUE_MILESTONES_PER_CLAIM, FireDueMilestonesUsecase } from './fire-due-milestones.usecase';

/**
 * How long an applied event is remembered for recognising its redelivery: longer than Kafka's
 * default retention of 7 days, so no redelivered record is older.
 */
export const APPLIED_EVENTS_RETENTION = '8 days';
const APPLIED_EVENTS_PRUNED_PER_TICK = 10_000;

/**
 * Every second, and at once when the sandbox clock jumps: brings the schedule in step with the
 * program, fires the due milestones (draining full claims back to back), republishes
 * occurrences whose publisher failed and forgets applied events past their retention. Several
 * instances may run: claims skip locked rows.
 */
@Injectable()
export class MilestoneScheduler extends PollingWorker {
  constructor(
    private readonly coverProgram: CoverProgramUsecase,
    private readonly fireDue: FireDueMilestonesUsecase,
    private readonly publisher: PublishOccurrencesUsecase,
    private readonly appliedEvents: AppliedEventStore,
    @Inject(CLOCK) clock: Clock,
  ) {
    super(clock);
  }

  protected async work(): Promise<void> {
    await this.coverProgram.execute();
    while ((await this.fireDue.fireOnce()).claimed === DUE_MILESTONES_PER_CLAIM) {
      // A full claim means more may be due.
    }
    while ((await this.publisher.republishStale()) === STALE_OCCURRENCES_PER_CLAIM) {
      // Likewise for a backlog of unpublished occurrences.
    }
    await this.appliedEvents.pruneApplied(APPLIED_EVENTS_RETENTION, APPLIED_EVENTS_PRUNED_PER_TICK);
  }
}
