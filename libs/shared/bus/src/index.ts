export * from './message-bus';
export { DEFAULT_RETRY_POLICY } from './retry-policy';
export { InMemoryBus, type InMemoryBusOptions } from './in-memory-bus';
export { KafkaBus, type KafkaBusOptions } from './kafka-bus';
export {
  PostgresBus,
  DEFAULT_BUS_RETENTION,
  type BusRetention,
  type PostgresBusOptions,
} from './postgres-bus';
export { createMessageBus } from './create-message-bus';
export { BusServer, BusContext } from './nest/bus-server';
export { OnMessages } from './nest/on-messages.decorator';
export { BusModule } from './nest/bus.module';
