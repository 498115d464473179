import { CreateAnalyticsTables1764000000000 } from './1764000000000-create-analytics-tables';

export const analyticsMigrations = [CreateAnalyticsTables1764000000000];
