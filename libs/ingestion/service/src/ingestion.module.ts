import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { CustomersController } from './controllers/customers.controller';
import { EventsController } from './controllers/events.controller';
import { RetailEventsConsumer } from './controllers/retail-events.consumer';
import { ingestionMigrations } from './migrations';
import { ErasureStore } from './store/erasure.store';
import { EventLogStore } from './store/event-log.store';
import { IdentityStore } from './store/identity.store';
import { OrderStore } from './store/order.store';
import { ProfileStore } from './store/profile.store';
import { IngestionBacklogQuery } from './store/ingestion-backlog.query';
import { EraseCustomerUsecase } from './usecases/erase-customer/erase-customer.usecase';
import { IngestBatch } from './usecases/ingest-events/ingest-batch';
import { IngestEventsUsecase } from './usecases/ingest-events/ingest-events.usecase';

/** Ingestion: validation, dedupe, identity, customer profiles (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'ingestion', migrations: ingestionMigrations })],
  controllers: [EventsController, CustomersController, RetailEventsConsumer],
  providers: [
    ProfileStore,
    IngestionBacklogQuery,
    OrderStore,
    IdentityStore,
    EventLogStore,
    ErasureStore,
    IngestBatch,
    IngestEventsUsecase,
    EraseCustomerUsecase,
  ],
})
export class IngestionModule {}
