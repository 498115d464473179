import { chooseIdempotence, producerConfig, type ClusterDescription } from './kafka-idempotence';

/** What describeCluster answers on the kcat mock (controller 0 is none of its brokers). */
const MOCK_CLUSTER: ClusterDescription = {
  clusterId: 'mockCluster158e9338aee0',
  controller: 0,
  brokers: [{ nodeId: 1 }, { nodeId: 2 }, { nodeId: 3 }],
};
const REAL_CLUSTER: ClusterDescription = {
  clusterId: '4L6g3nShT-eMCtK--X86sw',
  controller: 1,
  brokers: [{ nodeId: 1 }, { nodeId: 2 }, { nodeId: 3 }],
};

describe('chooseIdempotence', () => {
  it('is idempotent on a real cluster with auto', () => {
    expect(chooseIdempotence('auto', REAL_CLUSTER)).toEqual({
      idempotent: true,
      reason: 'Kafka producer is idempotent',
    });
  });

  it('is off with auto on librdkafka’s mock, saying why and what it risks', () => {
    expect(chooseIdempotence('auto', MOCK_CLUSTER)).toEqual({
      idempotent: false,
      reason:
        "Kafka producer is NOT idempotent: cluster mockCluster158e9338aee0 is librdkafka's mock, whose controller (0) " +
        'is none of its brokers (1, 2, 3), and kafkajs gets a producer id from the controller; a retried produce may ' +
        'duplicate or reorder a customer’s messages. On a real cluster it is idempotent (KAFKA_IDEMPOTENT_PRODUCER=auto)',
    });
  });

  it('is on when told, even on the mock (where connecting then fails)', () => {
    expect(chooseIdempotence(true, MOCK_CLUSTER).idempotent).toBe(true);
    expect(chooseIdempotence(true).idempotent).toBe(true);
  });

  it('is off when told, naming the setting', () => {
    expect(chooseIdempotence(false, REAL_CLUSTER)).toEqual({
      idempotent: false,
      reason:
        'Kafka producer is NOT idempotent (KAFKA_IDEMPOTENT_PRODUCER=false): a retried produce may duplicate or ' +
        'reorder a customer’s messages',
    });
  });
});

describe('producerConfig', () => {
  it('asks kafkajs for idempotence with one request in flight per broker', () => {
    expect(producerConfig(true)).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
  });

  it('leaves requests in flight unlimited without idempotence', () => {
    const config = producerConfig(false);
    expect(config.idempotent).toBe(false);
    expect(config).not.toHaveProperty('maxInFlightRequests');
  });

  it('keeps the client’s bounded retries either way, so a publish fails rather than hangs', () => {
    expect(producerConfig(true)).not.toHaveProperty('retry');
    expect(producerConfig(false)).not.toHaveProperty('retry');
    expect(producerConfig(true)).toMatchObject({ allowAutoTopicCreation: true });
  });
});
