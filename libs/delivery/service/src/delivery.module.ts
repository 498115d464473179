import { PersistenceModule } from '@mmp/persistence';
import { Module, type DynamicModule } from '@nestjs/common';
import { ChannelRegistry } from './channels/channel-registry';
import { MessageComposer } from './compose/message-composer';
import { CustomerMessagesController } from './controllers/customer-messages.controller';
import { DeliveryConsumer } from './controllers/delivery.consumer';
import { MessagesController } from './controllers/messages.controller';
import { TemplatesController } from './controllers/templates.controller';
import { MessageLogQuery } from './store/message-log.query';
import { WebhooksController } from './controllers/webhooks.controller';
import { deliveryMigrations } from './migrations';
import { DELIVERY_TIMING, defaultDeliveryTiming, type DeliveryTiming } from './sending/delivery-timing';
import { ProviderDispatcher } from './sending/provider-dispatcher';
import { StatusPublisher } from './sending/status-publisher';
import { SnsVerifier } from './receipts/sns-verifier';
import { ConsentViewStore } from './store/consent-view.store';
import { DeliveryBacklogQuery } from './store/delivery-backlog.query';
import { ErasureStore } from './store/erasure.store';
import { MessageLedgerStore } from './store/message-ledger.store';
import { MessageListQuery } from './store/message-list.query';
import { OutboxStore } from './store/outbox.store';
import { PushTokenStore } from './store/push-token.store';
import { ReceiptStore } from './store/receipt.store';
import { RetryQueueStore } from './store/retry-queue.store';
import { SendDecisionQuery } from './store/send-decision.query';
import { SnapshotStore } from './store/snapshot.store';
import { PreviewTemplateUsecase } from './usecases/preview-template/preview-template.usecase';
import { ReceiveWebhookUsecase } from './usecases/receive-webhook/receive-webhook.usecase';
import { RetryDueMessagesUsecase } from './usecases/retry-due-messages/retry-due-messages.usecase';
import { SendMessagesUsecase } from './usecases/send-messages/send-messages.usecase';

/** Delivery: channel plugins, templates, sending, retries, receipts (SPEC section 2). */
@Module({
  imports: [PersistenceModule.forService({ schema: 'delivery', migrations: deliveryMigrations })],
  controllers: [
    DeliveryConsumer,
    CustomerMessagesController,
    MessagesController,
    TemplatesController,
    WebhooksController,
  ],
  providers: [
    ConsentViewStore,
    DeliveryBacklogQuery,
    ErasureStore,
    MessageLedgerStore,
    MessageListQuery,
    MessageLogQuery,
    OutboxStore,
    PushTokenStore,
    ReceiptStore,
    RetryQueueStore,
    SendDecisionQuery,
    SnapshotStore,
    ChannelRegistry,
    MessageComposer,
    ProviderDispatcher,
    StatusPublisher,
    SendMessagesUsecase,
    RetryDueMessagesUsecase,
    ReceiveWebhookUsecase,
    SnsVerifier,
    PreviewTemplateUsecase,
    { provide: DELIVERY_TIMING, useValue: defaultDeliveryTiming },
  ],
})
export class DeliveryModule {
  /** The module with its sending timing replaced: tests pin jitter, rate-limit waits and the retry loop. */
  static withTiming(timing: DeliveryTiming): DynamicModule {
    return { module: DeliveryModule, providers: [{ provide: DELIVERY_TIMING, useValue: timing }] };
  }
}
