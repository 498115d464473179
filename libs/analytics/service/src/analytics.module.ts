import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { AnalyticsController } from './controllers/analytics.controller';
import { analyticsMigrations } from './migrations';
import { MessageFactsStore } from './store/message-facts.store';

/** Analytics: tracking, attribution, metrics, lift (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'analytics', migrations: analyticsMigrations })],
  controllers: [AnalyticsController],
  providers: [MessageFactsStore],
})
export class AnalyticsModule {}
