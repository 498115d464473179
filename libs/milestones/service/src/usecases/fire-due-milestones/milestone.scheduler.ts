import { CLOCK, type Clock } from '@mmp/clock';
import { PollingWorker } from '@mmp/server';
import { Inject, Injectable } from '@nestjs/common';
import { CoverProgramUsecase } from '../cover-program/cover-program.usecase';
import {
  PublishOccurrencesUsecase,
  STALE_OCCURRENCES_PER_CLAIM,
} from '../publish-occurrences/publish-occurrences.usecase';
import { DUE_MILESTONES_PER_CLAIM, FireDueMilestonesUsecase } from './fire-due-milestones.usecase';

/**
 * Every second, and at once when the sandbox clock jumps: brings the schedule in step with the
 * program, fires the due milestones (draining full claims back to back) and republishes
 * occurrences whose publisher failed. Several instances may run: claims skip locked rows.
 */
@Injectable()
export class MilestoneScheduler extends PollingWorker {
  constructor(
    private readonly coverProgram: CoverProgramUsecase,
    private readonly fireDue: FireDueMilestonesUsecase,
    private readonly publisher: PublishOccurrencesUsecase,
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
  }
}
