import { CreateIngestionTables1764000000000 } from './1764000000000-create-ingestion-tables';

export const ingestionMigrations = [CreateIngestionTables1764000000000];
