import type { AppConfig } from '@mmp/config';
import { KafkaBus } from './kafka-bus';
import type { MessageBus } from './message-bus';
import { PostgresBus } from './postgres-bus';

/**
 * Kafka when KAFKA_BROKERS is set, otherwise the in-process bus (SPEC section 3), kept durable
 * on the platform's Postgres so that a crash loses nothing (the in-memory bus is for specs).
 */
export function createMessageBus(config: AppConfig): MessageBus {
  return config.kafkaBrokers
    ? new KafkaBus({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        idempotentProducer: config.kafkaIdempotentProducer,
      })
    : new PostgresBus({ url: config.requireDatabaseUrl(), retention: config.busRetention });
}
