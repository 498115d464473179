export * from './journeys.module';
export {
  FireDueTimersUsecase,
  DUE_TIMERS_PER_CLAIM,
} from './usecases/fire-due-timers/fire-due-timers.usecase';
export { TimerScheduler } from './usecases/fire-due-timers/timer.scheduler';
export { InstanceStore } from './store/instance.store';
export { JourneyVersionStore } from './store/journey-version.store';
export { SendLedgerStore } from './store/send-ledger.store';
