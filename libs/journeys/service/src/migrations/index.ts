import { CreateJourneysTables1764000000000 } from './1764000000000-create-journeys-tables';
import { CustomerEventHistory1764300000000 } from './1764300000000-customer-event-history';
import { JourneyMapIndexes1764400000000 } from './1764400000000-journey-map-indexes';

export const journeysMigrations = [
  CreateJourneysTables1764000000000,
  CustomerEventHistory1764300000000,
  JourneyMapIndexes1764400000000,
];
