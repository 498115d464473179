import { CreateIngestionTables1764000000000 } from './1764000000000-create-ingestion-tables';
import { OrdersExcludedFromAggregates1764100000000 } from './1764100000000-orders-excluded-from-aggregates';
import { CustomerSearchIndexes1764400000000 } from './1764400000000-customer-search-indexes';
import { HeldMessages1764600000000 } from './1764600000000-held-messages';

export const ingestionMigrations = [
  CreateIngestionTables1764000000000,
  OrdersExcludedFromAggregates1764100000000,
  CustomerSearchIndexes1764400000000,
  HeldMessages1764600000000,
];
