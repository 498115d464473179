import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomersController } from './controllers/customers.controller';
import { EventsController } from './controllers/events.controller';
import { RetailEventsConsumer } from './controllers/retail-events.consumer';
import { ingestionMigrations } from './migrations';
import { ProfileStore } from './store/profile.store';
import { IngestionBacklogQuery } from './store/ingestion-backlog.query';
import { EraseCustomerUsecase } from './usecases/erase-customer/erase-customer.usecase';
import { IngestEventsUsecase } from './usecases/ingest-events/ingest-events.usecase';

/** Ingestion: validation, dedupe, identity, customer profiles (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'ingestion', migrations: ingestionMigrations })],
  controllers: [EventsController, CustomersController, RetailEventsConsumer],
  providers: [ProfileStore, IngestionBacklogQuery, IngestEventsUsecase, EraseCustomerUsecase],
})
export class IngestionModule {}
