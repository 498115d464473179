import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTopic } from '@mmp/contracts';
import { Logger } from '@nestjs/common';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { z } from 'zod';
import { KafkaBus } from './kafka-bus';
import { describeBusConformance } from './testing/bus-conformance';

/**
 * Real: a Kafka-protocol cluster at KAFKA_BROKERS (the integration global setup provides one;
 * `npm run kafka:mock` starts one by hand). Nothing is mocked.
 */
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((broker) => broker.length > 0);
if (brokers.length === 0)
  throw new Error(
    'KAFKA_BROKERS is not set: run through test/jest.config.js, whose global setup starts a cluster',
  );

beforeAll(() => Logger.overrideLogger(['error']));

interface TappedRecord {
  partition: number;
  offset: number;
  key: string;
  value: unknown;
  headers: Record<string, string>;
}

/** Reads topics raw (DLQs hold bytes that are not valid messages) with a consumer group of its own. */
class TopicTaps {
  private readonly kafka = new Kafka({
    clientId: 'bus-conformance-tap',
    brokers,
    logLevel: logLevel.NOTHING,
  });
  private readonly admin = this.kafka.admin();
  private readonly taps = new Map<string, Promise<{ consumer: Consumer; records: TappedRecord[] }>>();
  private adminConnection: Promise<void> | undefined;

  async read(topicName: string): Promise<TappedRecord[]> {
    let tap = this.taps.get(topicName);
    if (!tap) {
      tap = this.open(topicName);
      this.taps.set(topicName, tap);
    }
    const { records } = await tap;
    await this.catchUp(topicName, records);
    return [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }

  async close(): Promise<void> {
    await Promise.all([...this.taps.values()].map(async (tap) => (await tap).consumer.disconnect()));
    if (this.adminConnection) await this.admin.disconnect();
  }

  private async open(topicName: string): Promise<{ consumer: Consumer; records: TappedRecord[] }> {
    const consumer = this.kafka.consumer({ groupId: `tap-${randomUUID()}`, maxWaitTimeInMs: 200 });
    const records: TappedRecord[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topicName], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const text = message.value?.toString() ?? '';
        let value: unknown = text;
        try {
          value = JSON.parse(text);
        } catch {
          // kept as text, as InMemoryBus.messagesOn does
        }
        records.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString() ?? '',
          value,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, v]) => [name, String(v)]),
          ),
        });
      },
    });
    return { consumer, records };
  }

  /** Waits until the tap has read up to each partition's high watermark as it is now. */
  private async catchUp(topicName: string, records: TappedRecord[]): Promise<void> {
    this.adminConnection ??= this.admin.connect();
    await this.adminConnection;
    const watermarks = await this.admin.fetchTopicOffsets(topicName);
    const deadline = Date.now() + 20_000;
    const caughtUp = (): boolean =>
      watermarks.every(
        ({ partition, high }) =>
          records.filter((r) => r.partition === partition && r.offset >= Number(high) - 1).length > 0 ||
          high === '0',
      );
    while (!caughtUp()) {
      if (Date.now() > deadline) throw new Error(`the tap on ${topicName} did not catch up`);
      await sleep(50);
    }
  }
}

describeBusConformance('KafkaBus', () => {
  const taps = new TopicTaps();
  return {
    createBus: ({ retry }) =>
      new KafkaBus({ brokers, clientId: 'bus-conformance', retry, sessionTimeoutMs: SESSION_TIMEOUT_MS }),
    readTopic: (topicName) => taps.read(topicName),
    timeoutMs: 30_000,
    close: () => taps.close(),
  };
});

/** The mock holds a group for a session timeout after a member leaves: restarts are quicker with a short one. */
const SESSION_TIMEOUT_MS = 6000;

const Note = z.object({ n: z.number() });

describe('KafkaBus with several processes', () => {
  it('lets a new bus in the same group resume after the last committed offset', async () => {
    const topic = defineTopic({
      name: `kafka-bus.resume.${randomUUID()}.v1`,
      schemaVersion: 1,
      schema: Note,
      description: 'test',
    });
    const groupId = `resume-${randomUUID()}`;
    const handledByFirst: number[] = [];
    const handledBySecond: number[] = [];

    const first = new KafkaBus({ brokers, clientId: 'first-process', sessionTimeoutMs: SESSION_TIMEOUT_MS });
    first.subscribe({
      topic,
      groupId,
      handler: async (batch) => void handledByFirst.push(...batch.map((m) => m.value.n)),
    });
    await first.start();
    await first.publish(topic, [{ key: 'c-1', value: { n: 1 } }]);
    while (handledByFirst.length < 1) await sleep(20);
    await first.stop();

    const second = new KafkaBus({
      brokers,
      clientId: 'second-process',
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    second.subscribe({
      topic,
      groupId,
      handler: async (batch) => void handledBySecond.push(...batch.map((m) => m.value.n)),
    });
    try {
      await second.start();
      await second.publish(topic, [{ key: 'c-1', value: { n: 2 } }]);
      while (handledBySecond.length < 1) await sleep(20);

      expect(handledByFirst).toEqual([1]);
      expect(handledBySecond).toEqual([2]);
    } finally {
      await second.stop();
    }
  });

  it('fails to start with a retriable error naming the brokers when none is reachable', async () => {
    // Every connection retry is logged as an error, which is right in production and noise here.
    Logger.overrideLogger(false);
    const bus = new KafkaBus({ brokers: ['127.0.0.1:1'], clientId: 'unreachable' });
    const started = Date.now();

    await expect(bus.start()).rejects.toMatchObject({
      code: 'unavailable',
      retriable: true,
      message: expect.stringContaining('127.0.0.1:1'),
    });
    expect(await bus.isReady()).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
