import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomerEventsConsumer } from './controllers/customer-events.consumer';
import { CustomerMilestonesController } from './controllers/customer-milestones.controller';
import { milestonesMigrations } from './migrations';
import { OccurrenceStore } from './store/occurrence.store';
import { EvaluateEventsUsecase } from './usecases/evaluate-events/evaluate-events.usecase';

/** Milestones: definitions, evaluation, the time-based schedule (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'milestones', migrations: milestonesMigrations })],
  controllers: [CustomerEventsConsumer, CustomerMilestonesController],
  providers: [OccurrenceStore, EvaluateEventsUsecase],
})
export class MilestonesModule {}
