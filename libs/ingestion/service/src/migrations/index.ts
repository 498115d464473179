import { CreateIngestionTables1764000000000 } from './1764000000000-create-ingestion-tables';
import { OrdersExcludedFromAggregates1764100000000 } from './1764100000000-orders-excluded-from-aggregates';

export const ingestionMigrations = [
  CreateIngestionTables1764000000000,
  OrdersExcludedFromAggregates1764100000000,
];
