import { Partitioners, type ProducerConfig } from 'kafkajs';

/**
 * Whether the Kafka producer is idempotent (KAFKA_IDEMPOTENT_PRODUCER): `auto` is on, except on
 * librdkafka's mock cluster, where kafkajs cannot start an idempotent producer.
 */
export type IdempotentProducerSetting = boolean | 'auto';

/** What describeCluster tells about the cluster, enough to recognise the mock. */
export interface ClusterDescription {
  clusterId: string;
  controller: number | null;
  brokers: readonly { nodeId: number }[];
}

export interface Idempotence {
  idempotent: boolean;
  /** The start-up line: whether the producer is idempotent, and why not when it is not. */
  reason: string;
}

/** librdkafka names its mock clusters `mockCluster<hex>` (rdkafka_mock.c). */
const MOCK_CLUSTER_ID = /^mockCluster/;

const NOT_IDEMPOTENT_RISK = 'a retried produce may duplicate or reorder a customer’s messages';

/**
 * kafkajs asks the controller for a producer id (InitProducerId), and the mock names as
 * controller a node that is none of its brokers, so an idempotent producer fails to connect
 * there (transactions go to a coordinator, and do work). A real cluster names one of its brokers.
 */
export function chooseIdempotence(
  setting: IdempotentProducerSetting,
  cluster?: ClusterDescription,
): Idempotence {
  if (setting === true) return { idempotent: true, reason: 'Kafka producer is idempotent' };
  if (setting === false) {
    return {
      idempotent: false,
      reason: `Kafka producer is NOT idempotent (KAFKA_IDEMPOTENT_PRODUCER=false): ${NOT_IDEMPOTENT_RISK}`,
    };
  }
  if (cluster && MOCK_CLUSTER_ID.test(cluster.clusterId)) {
    const brokers = cluster.brokers.map((broker) => broker.nodeId).join(', ');
    return {
      idempotent: false,
      reason:
        `Kafka producer is NOT idempotent: cluster ${cluster.clusterId} is librdkafka's mock, whose controller ` +
        `(${cluster.controller ?? 'none'}) is none of its brokers (${brokers}), and kafkajs gets a producer id ` +
        `from the controller; ${NOT_IDEMPOTENT_RISK}. On a real cluster it is idempotent (KAFKA_IDEMPOTENT_PRODUCER=auto)`,
    };
  }
  return { idempotent: true, reason: 'Kafka producer is idempotent' };
}

/**
 * The producer's kafkajs options. Idempotence needs acks from all in-sync replicas (every send
 * asks for them) and, for kafkajs to keep a customer's batches in order across retries, one
 * request in flight per broker; without it requests are not limited. Retries are the client's
 * (bounded, ~30 s) rather than kafkajs's endless default for idempotence: a publish that still
 * fails then fails to its caller, which retries it as any failed publish, instead of hanging.
 */
export function producerConfig(idempotent: boolean): ProducerConfig {
  return {
    idempotent,
    ...(idempotent ? { maxInFlightRequests: 1 } : {}),
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  };
}
