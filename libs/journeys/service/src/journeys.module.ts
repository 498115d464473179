import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomerJourneysController } from './controllers/customer-journeys.controller';
import { JourneysConsumer } from './controllers/journeys.consumer';
import { JourneysController } from './controllers/journeys.controller';
import { ProgramController } from './controllers/program.controller';
import { journeysMigrations } from './migrations';
import { CustomerEventStore } from './store/customer-event.store';
import { CustomerJourneysQuery } from './store/customer-journeys.query';
import { ErasureStore } from './store/erasure.store';
import { GoalStore } from './store/goal.store';
import { InstanceStore } from './store/instance.store';
import { JourneyMapQuery } from './store/journey-map.query';
import { JourneyVersionStore } from './store/journey-version.store';
import { JourneysBacklogQuery } from './store/journeys-backlog.query';
import { OutboxStore } from './store/outbox.store';
import { RunStore } from './store/run.store';
import { SendLedgerStore } from './store/send-ledger.store';
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
  controllers: [JourneysConsumer, CustomerJourneysController, JourneysController, ProgramController],
  providers: [
    CustomerEventStore,
    CustomerJourneysQuery,
    ErasureStore,
    GoalStore,
    InstanceStore,
    JourneyVersionStore,
    JourneysBacklogQuery,
    OutboxStore,
    RunStore,
    SendLedgerStore,
    JourneyMapQuery,
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
