export * from './journeys.module';
export {
  FireDueTimersUsecase,
  DUE_TIMERS_PER_CLAIM,
} from './usecases/fire-due-timers/fire-due-timers.usecase';
export { TimerScheduler } from './usecases/fire-due-timers/timer.scheduler';
export { JourneyStore } from './store/journey.store';
