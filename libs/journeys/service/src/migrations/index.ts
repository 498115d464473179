import { CreateJourneysTables1764000000000 } from './1764000000000-create-journeys-tables';

export const journeysMigrations = [CreateJourneysTables1764000000000];
