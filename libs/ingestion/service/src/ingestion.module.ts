import { MESSAGE_BUS, type MessageBus } from '@mmp/bus';
import { PersistenceModule } from '@mmp/persistence';
import { ProgramStore } from '@mmp/program';
import { Module } from '@nestjs/common';
import { CustomersController } from './controllers/customers.controller';
import { EventsController } from './controllers/events.controller';
import { RetailEventsConsumer } from './controllers/retail-events.consumer';
import { SegmentController } from './controllers/segment.controller';
import { SegmentWriteKeyGuard } from './controllers/segment-write-key.guard';
import { ingestionMigrations } from './migrations';
import { SourcesConsumer } from './sources/sources.consumer';
import { CustomerDirectoryQuery } from './store/customer-directory.query';
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
  controllers: [EventsController, SegmentController, CustomersController, RetailEventsConsumer],
  providers: [
    ProfileStore,
    CustomerDirectoryQuery,
    IngestionBacklogQuery,
    OrderStore,
    IdentityStore,
    EventLogStore,
    ErasureStore,
    IngestBatch,
    IngestEventsUsecase,
    EraseCustomerUsecase,
    SegmentWriteKeyGuard,
    {
      provide: SourcesConsumer,
      inject: [IngestEventsUsecase, ProgramStore, MESSAGE_BUS],
      // Subscribed when made, which is before the bus starts (module-init hooks run after it).
      useFactory: (ingest: IngestEventsUsecase, program: ProgramStore, bus: MessageBus): SourcesConsumer => {
        const consumer = new SourcesConsumer(ingest, program, bus);
        consumer.listen();
        return consumer;
      },
    },
  ],
})
export class IngestionModule {}
