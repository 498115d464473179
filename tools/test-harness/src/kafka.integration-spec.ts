// Real: a kcat mock cluster this spec starts, spoken to with kafkajs. Mocked: nothing.
import { Kafka, logLevel } from 'kafkajs';

import { KAFKA_INSTALL_HINT, provisionKafka, type ProvisionedKafka } from './kafka';

async function brokerCount(brokers: string[]): Promise<number> {
  const admin = new Kafka({
    clientId: 'test-harness-spec',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect();
  }
}

describe('provisionKafka', () => {
  let log: jest.SpyInstance;

  beforeEach(() => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    log.mockRestore();
  });

  it('uses the brokers of KAFKA_BROKERS when it is set, and prints them', async () => {
    const provisioned = await provisionKafka({ KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,' });
    await provisioned.stop();

    expect(provisioned).toMatchObject({ brokers: ['kafka-1:9092', 'kafka-2:9092'], source: 'KAFKA_BROKERS' });
    expect(log).toHaveBeenCalledWith('[test-harness] Kafka: KAFKA_BROKERS (kafka-1:9092,kafka-2:9092)');
  });

  describe('when KAFKA_BROKERS is unset and containers are off', () => {
    let provisioned: ProvisionedKafka | undefined;

    afterEach(async () => {
      await provisioned?.stop();
    });

    it('starts the kcat mock cluster, whose three brokers answer the Kafka protocol', async () => {
      provisioned = await provisionKafka({ MMP_TEST_CONTAINERS: 'off' });

      expect(provisioned.source).toBe('kcat-mock');
      expect(provisioned.brokers).toHaveLength(3);
      await expect(brokerCount(provisioned.brokers)).resolves.toBe(3);
      expect(log).toHaveBeenCalledWith(`[test-harness] Kafka: kcat-mock (${provisioned.brokers.join(',')})`);
    });

    it('says what to install when kcat is not on the PATH either', async () => {
      const attempt = provisionKafka({ MMP_TEST_CONTAINERS: 'off', PATH: '/nonexistent' });
      await expect(attempt).rejects.toThrow(KAFKA_INSTALL_HINT);
      await expect(attempt).rejects.toThrow(/apt-get install -y kcat/);
    });
  });
});
