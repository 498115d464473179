import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomerJourneysController } from './controllers/customer-journeys.controller';
import { JourneysConsumer } from './controllers/journeys.consumer';
import { ProgramController } from './controllers/program.controller';
import { journeysMigrations } from './migrations';
import { JourneyStore } from './store/journey.store';
import { JourneysBacklogQuery } from './store/journeys-backlog.query';
import { EnterJourneysUsecase } from './usecases/enter-journeys/enter-journeys.usecase';
import { FireDueTimersUsecase } from './usecases/fire-due-timers/fire-due-timers.usecase';
import { TimerScheduler } from './usecases/fire-due-timers/timer.scheduler';
import { JourneyRunner } from './usecases/journey-runner';
import { TrackCustomerEventsUsecase } from './usecases/track-customer-events/track-customer-events.usecase';
import { VoidUnsentSendsUsecase } from './usecases/void-unsent-sends/void-unsent-sends.usecase';

/**
 * Journeys: definitions, instances, durable waits, branches, goals, holdouts, send policies
 * (SPEC section 2), and the program API (GET/PUT /v1/program).
 */
@Module({
  imports: [PersistenceModule.forService({ schema: 'journeys', migrations: journeysMigrations })],
  controllers: [JourneysConsumer, CustomerJourneysController, ProgramController],
  providers: [
    JourneyStore,
    JourneysBacklogQuery,
    JourneyRunner,
    EnterJourneysUsecase,
    FireDueTimersUsecase,
    TrackCustomerEventsUsecase,
    VoidUnsentSendsUsecase,
    TimerScheduler,
  ],
  exports: [TimerScheduler],
})
export class JourneysModule {}
