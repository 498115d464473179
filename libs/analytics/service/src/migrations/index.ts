import { CreateAnalyticsTables1764000000000 } from './1764000000000-create-analytics-tables';
import { EntryCause1764400000000 } from './1764400000000-entry-cause';

export const analyticsMigrations = [CreateAnalyticsTables1764000000000, EntryCause1764400000000];
