export * from './analytics.module';
export { PublishJourneyMetricsUseCase } from './usecases/publish-journey-metrics/publish-journey-metrics.usecase';
