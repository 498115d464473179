export * from './delivery.module';
export { ChannelRegistry, type LoadedChannel } from './channels/channel-registry';
export { DELIVERY_TIMING, defaultDeliveryTiming, type DeliveryTiming } from './sending/delivery-timing';
export { RetryDueMessagesUsecase } from './usecases/retry-due-messages/retry-due-messages.usecase';
export { HANDOVER_CHUNK, SendMessagesUsecase } from './usecases/send-messages/send-messages.usecase';
export { ConsentViewStore } from './store/consent-view.store';
export { ErasureStore } from './store/erasure.store';
export { MessageLedgerStore, type MessageOutcome } from './store/message-ledger.store';
