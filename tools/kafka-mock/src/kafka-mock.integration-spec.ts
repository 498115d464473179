import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startKafkaMock, type KafkaMock } from './kafka-mock';

/** Real infrastructure: kcat's librdkafka mock cluster, started by the spec itself (not KAFKA_BROKERS). */
describe('the kcat mock cluster', () => {
  let mock: KafkaMock;
  beforeAll(async () => {
    mock = await startKafkaMock({ brokers: 3 });
  });
  afterAll(async () => {
    await mock.stop();
  });

  it('announces one address per broker', () => {
    expect(mock.brokers).toHaveLength(3);
    for (const broker of mock.brokers) expect(broker).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('carries a kafkajs produce and consume round trip with keys and headers', async () => {
    const kafka = new Kafka({
      clientId: 'kafka-mock-spec',
      brokers: mock.brokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = `kafka-mock-spec-${Date.now()}`;
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    try {
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: [
          { key: 'c-1', value: 'first', headers: { trace: 'a' } },
          { key: 'c-1', value: 'second', headers: { trace: 'b' } },
        ],
      });

      const received: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push(
              `${message.key?.toString()}=${message.value?.toString()} trace=${message.headers?.trace?.toString()}`,
            );
            if (received.length === 2) resolve();
          },
        });
      });
      await done;

      expect(received).toEqual(['c-1=first trace=a', 'c-1=second trace=b']);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('closes its brokers when stopped, and a second stop is harmless', async () => {
    const own = await startKafkaMock({ brokers: 1 });
    const [host, port] = own.brokers[0]!.split(':');

    await own.stop();
    await own.stop();

    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('gives up with the log tail when the cluster does not come up in time', async () => {
    // A kcat that logs and then never announces: a real one may come up within any timeout
    // short enough for a test, so racing it made the test flaky under load.
    const bin = await mkdtemp(join(tmpdir(), 'mmp-stuck-kcat-'));
    await writeFile(
      join(bin, 'kcat'),
      '#!/bin/sh\necho "%7|MOCK|starting, never ready" >&2\nexec sleep 60\n',
      {
        mode: 0o755,
      },
    );
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path ?? ''}`;
    try {
      await expect(startKafkaMock({ startTimeoutMs: 300 })).rejects.toThrow(
        /the kcat mock cluster did not announce bootstrap\.servers within 300 ms; last log lines:\n%7\|MOCK\|starting, never ready/,
      );
    } finally {
      process.env['PATH'] = path;
      await rm(bin, { recursive: true, force: true });
    }
  });
});
