import { AnalyticsModule } from '@mmp/analytics-service';
import { ConsentModule } from '@mmp/consent-service';
import { DeliveryModule } from '@mmp/delivery-service';
import { IngestionModule } from '@mmp/ingestion-service';
import { JourneysModule } from '@mmp/journeys-service';
import { MilestonesModule } from '@mmp/milestones-service';

/** All six services, as the one-process platform runs them. */
export const ALL_SERVICES = [
  IngestionModule,
  MilestonesModule,
  JourneysModule,
  DeliveryModule,
  ConsentModule,
  AnalyticsModule,
];
