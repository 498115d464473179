import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomerEventsConsumer } from './controllers/customer-events.consumer';
import { CustomerMilestonesController } from './controllers/customer-milestones.controller';
import { milestonesMigrations } from './migrations';
import { AppliedEventStore } from './store/applied-event.store';
import { CustomerViewStore } from './store/customer-view.store';
import { OccurrenceStore } from './store/occurrence.store';
import { MilestonesBacklogQuery } from './store/milestones-backlog.query';
import { ScheduleStore } from './store/schedule.store';
import { CoverProgramUsecase } from './usecases/cover-program/cover-program.usecase';
import { EvaluateEventsUsecase } from './usecases/evaluate-events/evaluate-events.usecase';
import { FireDueMilestonesUsecase } from './usecases/fire-due-milestones/fire-due-milestones.usecase';
import { MilestoneScheduler } from './usecases/fire-due-milestones/milestone.scheduler';
import { PublishOccurrencesUsecase } from './usecases/publish-occurrences/publish-occurrences.usecase';

/** Milestones: definitions, evaluation, the time-based schedule (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'milestones', migrations: milestonesMigrations })],
  controllers: [CustomerEventsConsumer, CustomerMilestonesController],
  providers: [
    OccurrenceStore,
    MilestonesBacklogQuery,
    ScheduleStore,
    CustomerViewStore,
    AppliedEventStore,
    PublishOccurrencesUsecase,
    EvaluateEventsUsecase,
    FireDueMilestonesUsecase,
    CoverProgramUsecase,
    MilestoneScheduler,
  ],
  exports: [MilestoneScheduler, FireDueMilestonesUsecase, CoverProgramUsecase, PublishOccurrencesUsecase],
})
export class MilestonesModule {}
