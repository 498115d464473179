import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

import { startKafkaMock } from '@mmp/kafka-mock';
import { KafkaContainer } from '@testcontainers/kafka';

import { isContainerRuntimeAvailable } from './container-runtime';
import { announce, reasonOf, type Environment } from './report';

export interface ProvisionedKafka {
  brokers: string[];
  source: 'KAFKA_BROKERS' | 'testcontainers' | 'kcat-mock';
  /** Stops what was started; does nothing for brokers from KAFKA_BROKERS. */
  stop(): Promise<void>;
}

/** Confluent 7.x in KRaft mode: no ZooKeeper container, one broker, ready in seconds. */
const KAFKA_IMAGE = 'confluentinc/cp-kafka:7.9.0';
/** The container's listener for clients outside the container network. */
const KAFKA_CLIENT_PORT = 9093;

export const KAFKA_INSTALL_HINT =
  'set KAFKA_BROKERS=host:9092 for a running Kafka, run a Docker engine (testcontainers), or install kcat for the in-memory mock cluster: `apt-get install -y kcat`';

/**
 * A Kafka-protocol cluster for the tests: KAFKA_BROKERS when set, else a KRaft container when a
 * container runtime answers, else librdkafka's mock cluster through kcat.
 */
export async function provisionKafka(env: Environment = process.env): Promise<ProvisionedKafka> {
  const provisioned = await chooseKafka(env);
  announce(`Kafka: ${provisioned.source} (${provisioned.brokers.join(',')})`);
  return provisioned;
}

async function chooseKafka(env: Environment): Promise<ProvisionedKafka> {
  const fromEnvironment = parseBrokers(env.KAFKA_BROKERS);
  if (fromEnvironment.length > 0) {
    return { brokers: fromEnvironment, source: 'KAFKA_BROKERS', stop: async () => undefined };
  }
  if (await isContainerRuntimeAvailable(env)) {
    const container = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
    return {
      brokers: [`${container.getHost()}:${container.getMappedPort(KAFKA_CLIENT_PORT)}`],
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  }
  if (!isOnPath('kcat', env.PATH ?? process.env.PATH)) {
    throw new Error(`no Kafka for the tests: ${KAFKA_INSTALL_HINT}`);
  }
  try {
    const mock = await startKafkaMock();
    return { brokers: mock.brokers, source: 'kcat-mock', stop: () => mock.stop() };
  } catch (error) {
    throw new Error(
      `no Kafka for the tests: the kcat mock cluster failed (${reasonOf(error)}); ${KAFKA_INSTALL_HINT}`,
      {
        cause: error,
      },
    );
  }
}

function parseBrokers(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
}

function isOnPath(command: string, path: string | undefined): boolean {
  return (path ?? '').split(delimiter).some((directory) => {
    if (directory.length === 0) return false;
    try {
      accessSync(join(directory, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
