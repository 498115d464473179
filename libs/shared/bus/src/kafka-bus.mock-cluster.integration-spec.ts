import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTopic } from '@mmp/contracts';
import { eventually, startKafkaMock, type KafkaMock } from '@mmp/test-harness';
import { Logger, type LoggerService } from '@nestjs/common';
import { Kafka, KafkaJSNonRetriableError, logLevel, type Consumer, type ConsumerRunConfig } from 'kafkajs';
import { register } from 'prom-client';
import { z } from 'zod';
import { KafkaBus } from './kafka-bus';

/**
 * Real: a kcat mock cluster of this file's own (not KAFKA_BROKERS), for what only the mock
 * does: it cannot serve kafkajs's idempotent producer, and it keeps about 5 MB per partition,
 * deleting the oldest produce batches beyond that. Nothing is mocked.
 */
let mock: KafkaMock;
const lines: { level: string; message: string }[] = [];
const capture = (level: string) => (message: unknown) => void lines.push({ level, message: String(message) });
const capturingLogger: LoggerService = {
  log: capture('log'),
  error: capture('error'),
  warn: capture('warn'),
  debug: capture('debug'),
  verbose: capture('verbose'),
};

beforeAll(async () => {
  mock = await startKafkaMock({ brokers: 1 });
  Logger.overrideLogger(capturingLogger);
});
afterAll(async () => {
  await mock.stop();
});
beforeEach(() => {
  lines.length = 0;
});

/** The mock holds a group for a session timeout after a member leaves: restarts are quicker with a short one. */
const SESSION_TIMEOUT_MS = 6000;

const Note = z.object({ n: z.number(), pad: z.string().optional() });
const newTopic = (name: string) =>
  defineTopic({
    name: `kafka-bus.${name}.${randomUUID()}.v1`,
    schemaVersion: 1,
    schema: Note,
    description: 'test',
  });

describe('the idempotent producer on librdkafka’s mock cluster', () => {
  it('is off with the default setting, says so once at start-up, and the bus works', async () => {
    const topic = newTopic('auto-idempotence');
    const handled: number[] = [];
    const bus = new KafkaBus({ brokers: mock.brokers, clientId: 'auto-idempotence' });
    bus.subscribe({
      topic,
      groupId: 'g',
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.n)),
    });
    try {
      await bus.start();
      await bus.publish(topic, [
        { key: 'c-1', value: { n: 1 } },
        { key: 'c-1', value: { n: 2 } },
      ]);
      await eventually(() => expect(handled).toEqual([1, 2]), { timeoutMs: 30_000 });
    } finally {
      await bus.stop();
    }

    const startUp = lines.filter((line) => line.message.includes('Kafka producer is'));
    expect(startUp).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^Kafka producer is NOT idempotent: cluster mockCluster\w+ is librdkafka's mock, whose controller \(0\) is none of its brokers \(1\), and kafkajs gets a producer id from the controller; a retried produce may duplicate or reorder a customer’s messages\./,
        ),
      },
    ]);
    expect(lines.filter((line) => line.message.includes('Limiting retries'))).toEqual([]);
  });

  it('says so when turned off by the setting', async () => {
    const bus = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'no-idempotence',
      idempotentProducer: false,
    });
    try {
      await bus.start();
    } finally {
      await bus.stop();
    }
    expect(lines).toContainEqual({
      level: 'warn',
      message:
        'Kafka producer is NOT idempotent (KAFKA_IDEMPOTENT_PRODUCER=false): a retried produce may duplicate or reorder a customer’s messages',
    });
  });

  it('fails to start at once with an error naming the setting when forced on', async () => {
    const bus = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'forced-idempotence',
      idempotentProducer: true,
    });
    const started = Date.now();

    await expect(bus.start()).rejects.toMatchObject({
      code: 'internal',
      retriable: false,
      message: expect.stringMatching(
        /^cannot start the Kafka bus on 127\.0\.0\.1:\d+: the idempotent Kafka producer cannot get a producer id from 127\.0\.0\.1:\d+: .*Broker 0 not found.*; a cluster that cannot give one \(librdkafka's mock, a broker without IdempotentWrite\) needs KAFKA_IDEMPOTENT_PRODUCER=false$/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await bus.isReady()).toBe(false);
    expect(lines).toContainEqual({ level: 'log', message: 'Kafka producer is idempotent' });
  });
});

describe('a committed offset that fell out of retention', () => {
  it('is counted and logged with the lost range, and consuming goes on from the earliest offset', async () => {
    const topic = newTopic('retention');
    const groupId = `retention-${randomUUID()}`;
    const key = 'c-retention';
    const first: string[] = [];
    const before = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'before',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    before.subscribe({
      topic,
      groupId,
      handler: async (batch) => void first.push(...batch.map((m) => m.offset)),
    });
    await before.start();
    let partition: number;
    try {
      await before.publish(topic, [{ key, value: { n: 0 } }]);
      [partition] = await eventually(
        async () => {
          expect(first).toEqual(['0']);
          return [await committedPartition(groupId, topic.name)];
        },
        { timeoutMs: 30_000 },
      );
    } finally {
      await before.stop();
    }

    // While the group is stopped: 8 MB on the same key (so the same partition), in produce
    // requests of 640 KB; the mock keeps ~5 MB and deletes the first batches, offset 1 among them.
    const pad = 'x'.repeat(64 * 1024);
    const filler = new KafkaBus({ brokers: mock.brokers, clientId: 'filler' });
    try {
      for (let request = 0; request < 12; request += 1) {
        await filler.publishRaw(
          topic.name,
          Array.from({ length: 10 }, (_, i) => ({
            key,
            value: JSON.stringify({ n: request * 10 + i + 1, pad }),
          })),
        );
      }
    } finally {
      await filler.stop();
    }
    const earliest = await earliestOffset(topic.name, partition);
    expect(earliest).toBeGreaterThan(1);

    const resumed: string[] = [];
    const after = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'after',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    after.subscribe({
      topic,
      groupId,
      handler: async (batch) => void resumed.push(...batch.map((m) => m.offset)),
    });
    try {
      await after.start();
      await eventually(() => expect(resumed).toContain('120'), { timeoutMs: 40_000 });
    } finally {
      await after.stop();
    }

    const labels = { topic: topic.name, partition: String(partition), group: groupId };
    // Reported once kafkajs reset the offset and the bus read the partition's log: by now, but asynchronously.
    await eventually(async () => {
      expect(await counterValue('kafka_consumer_offset_resets_total', labels)).toBe(1);
      expect(await counterValue('kafka_consumer_offsets_lost_total', labels)).toBe(earliest - 1);
    });
    expect(lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message:
          `consumer group ${groupId} (Kafka group ${groupId}.${topic.name}) on ${topic.name} partition ${partition}: ` +
          `committed offset 1 fell out of retention (earliest offset now ${earliest}): offsets 1 to ${earliest - 1} ` +
          `(${earliest - 1} messages) were deleted unread; reset to ${earliest}, consuming goes on from there`,
      },
    ]);
    // Nothing but the deleted range is missed: the group resumes at the earliest offset kept.
    expect(resumed[0]).toBe(String(earliest));
    expect(resumed).toHaveLength(121 - earliest);
  }, 90_000);
});

describe('a consumer kafkajs gives up on', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is replaced after a pause, and the replacement consumes from the last commit', async () => {
    const topic = newTopic('gives-up');
    const groupId = `gives-up-${randomUUID()}`;
    // The first consumer of the group meets an error kafkajs does not retry in its first batch,
    // as librdkafka's mock answers a group sync INVALID_REQUEST now and then: kafkajs then
    // disconnects it and emits CRASH with restart false. Everything else is real.
    const created: Consumer[] = [];
    const consumerOf = Kafka.prototype.consumer;
    jest.spyOn(Kafka.prototype, 'consumer').mockImplementation(function (this: Kafka, config) {
      const consumer = consumerOf.call(this, config);
      if (!config?.groupId.startsWith(groupId)) return consumer;
      created.push(consumer);
      if (created.length > 1) return consumer;
      const run = consumer.run.bind(consumer);
      consumer.run = (options?: ConsumerRunConfig) =>
        run({
          ...options,
          eachBatch: async () => {
            throw new KafkaJSNonRetriableError('injected: the broker refused the group sync');
          },
        });
      return consumer;
    });

    const handled: number[] = [];
    const bus = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'gives-up',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    bus.subscribe({
      topic,
      groupId,
      handler: async (batch) => void handled.push(...batch.map((m) => m.value.n)),
    });
    await bus.start();
    try {
      await bus.publish(topic, [{ key: 'c-1', value: { n: 1 } }]);
      await eventually(() => expect(handled).toEqual([1]), { timeoutMs: 40_000 });
      await bus.publish(topic, [{ key: 'c-1', value: { n: 2 } }]);
      await eventually(() => expect(handled).toEqual([1, 2]), { timeoutMs: 20_000 });
      expect(created).toHaveLength(2);
      await eventually(async () => expect(await bus.isReady()).toBe(true));
    } finally {
      await bus.stop();
    }
    const key = `${topic.name} [${groupId}]`;
    expect(lines.filter((line) => line.level !== 'log' && line.message.startsWith(key))).toEqual([
      {
        level: 'error',
        message: expect.stringMatching(
          /: consumer crashed for good: .*injected: the broker refused the group sync/,
        ),
      },
      { level: 'warn', message: `${key}: starting a new consumer in 1000 ms` },
    ]);
  }, 90_000);
});

describe('a partition whose handler is slower than its producer', () => {
  // The mock answers a fetch with one produced batch per partition: consumed one fetch per call,
  // a slow handler got one produce call's records a call and fell further behind at every call.
  it('gets what was fetched while it worked in its next call, each record once and in order, and commits to the end', async () => {
    const topic = newTopic('slow-handler');
    const groupId = `slow-${randomUUID()}`;
    const calls: number[][] = [];
    const bus = new KafkaBus({
      brokers: mock.brokers,
      clientId: 'slow-handler',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    bus.subscribe({
      topic,
      groupId,
      handler: async (batch) => {
        calls.push(batch.map((m) => m.value.n));
        await sleep(150);
      },
    });
    await bus.start();
    try {
      // One record per produce call, every 10 ms, all on one key (one partition).
      for (let n = 0; n < 60; n += 1) {
        await bus.publish(topic, [{ key: 'one-customer', value: { n } }]);
        await sleep(10);
      }
      await eventually(() => expect(calls.flat()).toHaveLength(60), { timeoutMs: 20_000 });

      expect(calls.flat()).toEqual(Array.from({ length: 60 }, (_, n) => n));
      // About 1.5 s of produce calls through 150 ms calls: a handful of calls, not 60.
      expect(calls.length).toBeLessThan(20);
      expect(Math.max(...calls.map((c) => c.length))).toBeGreaterThan(3);
      await eventually(
        async () => expect(await committedOffsetOf(`${groupId}.${topic.name}`, topic.name)).toBe(60),
        {
          timeoutMs: 10_000,
        },
      );
    } finally {
      await bus.stop();
    }
  });
});

/** The offset the group committed on the topic's one partition with a commit. */
async function committedOffsetOf(kafkaGroupId: string, topicName: string): Promise<number> {
  const [topic] = await withAdmin((admin) =>
    admin.fetchOffsets({ groupId: kafkaGroupId, topics: [topicName] }),
  );
  return Math.max(-1, ...(topic?.partitions ?? []).map((p) => Number(p.offset)));
}

async function withAdmin<T>(use: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    clientId: 'retention-probe',
    brokers: mock.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The one partition where the group has committed (offset 1, after the first message). */
async function committedPartition(groupId: string, topicName: string): Promise<number> {
  const [topic] = await withAdmin((admin) =>
    admin.fetchOffsets({ groupId: `${groupId}.${topicName}`, topics: [topicName] }),
  );
  const committed = (topic?.partitions ?? []).filter((p) => p.offset !== '-1');
  expect(committed).toEqual([{ partition: expect.any(Number), offset: '1', metadata: null }]);
  return committed[0]!.partition;
}

async function earliestOffset(topicName: string, partition: number): Promise<number> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topicName));
  return Number(offsets.find((entry) => entry.partition === partition)?.low);
}

async function counterValue(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await register.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}
