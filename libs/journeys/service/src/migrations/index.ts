import { CreateJourneysTables1764000000000 } from './1764000000000-create-journeys-tables';
import { CustomerEventHistory1764300000000 } from './1764300000000-customer-event-history';
import { SendOutcomes1764400000000 } from './1764400000000-send-outcomes';
import { JourneyMapIndexes1764450000000 } from './1764450000000-journey-map-indexes';
import { SweepIndexOrder1764500000000 } from './1764500000000-sweep-index-order';

export const journeysMigrations = [
  CreateJourneysTables1764000000000,
  CustomerEventHistory1764300000000,
  SendOutcomes1764400000000,
  JourneyMapIndexes1764450000000,
  SweepIndexOrder1764500000000,
];
