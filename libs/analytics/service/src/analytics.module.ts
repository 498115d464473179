import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { AnalyticsConsumer } from './controllers/analytics.consumer';
import { AnalyticsController } from './controllers/analytics.controller';
import { DashboardController } from './controllers/dashboard.controller';
import { TrackingController } from './controllers/tracking.controller';
import { analyticsMigrations } from './migrations';
import { AttributionStore } from './store/attribution.store';
import { JourneyMetricsStore } from './store/journey-metrics.store';
import { MessageFactsStore } from './store/message-facts.store';
import { TouchStore } from './store/touch.store';
import { AttributeConversionsUseCase } from './usecases/attribute-conversions/attribute-conversions.usecase';
import { PublishJourneyMetricsUseCase } from './usecases/publish-journey-metrics/publish-journey-metrics.usecase';
import { RecordTouchUseCase } from './usecases/record-touch/record-touch.usecase';

/** Analytics: tracking, attribution, metrics, lift (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'analytics', migrations: analyticsMigrations })],
  controllers: [AnalyticsConsumer, AnalyticsController, DashboardController, TrackingController],
  providers: [
    AttributionStore,
    JourneyMetricsStore,
    MessageFactsStore,
    TouchStore,
    AttributeConversionsUseCase,
    PublishJourneyMetricsUseCase,
    RecordTouchUseCase,
  ],
})
export class AnalyticsModule {}
