import type { AppConfig } from '@mmp/config';
import { InMemoryBus } from './in-memory-bus';
import { KafkaBus } from './kafka-bus';
import type { MessageBus } from './message-bus';

/** Kafka when KAFKA_BROKERS is set, otherwise the in-process bus (SPEC section 3). */
export function createMessageBus(config: AppConfig): MessageBus {
  return config.kafkaBrokers
    ? new KafkaBus({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        idempotentProducer: config.kafkaIdempotentProducer,
      })
    : new InMemoryBus();
}
