import { PersistenceModule } from '@mmp/persistence';
import { Module } from '@nestjs/common';
import { ChannelRegistry } from './channels/channel-registry';
import { CustomerMessagesController } from './controllers/customer-messages.controller';
import { DeliveryConsumer } from './controllers/delivery.consumer';
import { deliveryMigrations } from './migrations';
import { MessageStore } from './store/message.store';
import { SendMessagesUsecase } from './usecases/send-messages/send-messages.usecase';

/** Delivery: channel plugins, templates, sending, receipts (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'delivery', migrations: deliveryMigrations })],
  controllers: [DeliveryConsumer, CustomerMessagesController],
  providers: [MessageStore, ChannelRegistry, SendMessagesUsecase],
})
export class DeliveryModule {}
