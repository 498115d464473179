import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomerJourneysController } from './controllers/customer-journeys.controller';
import { JourneysConsumer } from './controllers/journeys.consumer';
import { ProgramController } from './controllers/program.controller';
import { journeysMigrations } from './migrations';
import { JourneyStore } from './store/journey.store';
import { EnterJourneysUsecase } from './usecases/enter-journeys/enter-journeys.usecase';
import { FireDueTimersUsecase } from './usecases/fire-due-timers/fire-due-timers.usecase';
import { TimerScheduler } from './usecases/fire-due-timers/timer.scheduler';
import { JourneyRunner } from './usecases/journey-runner';
import { TrackCustomerEventsUsecase } from './usecases/track-customer-events/track-customer-events.usecase';
import { RecordSendOutcomesUsecase } from './usecases/record-send-outcomes/record-send-outcomes.usecase';

/**
 * Journeys: definitions, instances, durable waits, branches, goals, holdouts, send policies
 * (SPEC section 2), and the program API (GET/PUT /v1/program).
 */
@Module({
  imports: [PersistenceModule.forService({ schema: 'journeys', migrations: journeysMigrations })],
  controllers: [JourneysConsumer, CustomerJourneysController, ProgramController],
  providers: [
    JourneyStore,
    JourneyRunner,
    EnterJourneysUsecase,
    FireDueTimersUsecase,
    TrackCustomerEventsUsecase,
    RecordSendOutcomesUsecase,
    TimerScheduler,
  ],
  exports: [TimerScheduler],
})
export class JourneysModule {}
