export * from './journeys.module';
export { TimerScheduler } from './usecases/fire-due-timers/timer.scheduler';
