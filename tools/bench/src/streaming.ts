import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Consumer, type KafkaMessage, type LogEntry } from 'kafkajs';
import type { Progress } from './progress';

/** A quiet kafkajs client: errors only, one line each, on stderr. */
export function createKafka(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.ERROR,
    logCreator: () => (entry: LogEntry) => {
      process.stderr.write(`[kafkajs ${entry.namespace}] ${entry.log.message}\n`);
    },
  });
}

export interface Collector {
  stop(): Promise<void>;
}

export interface CollectorOptions {
  kafka: Kafka;
  topics: readonly string[];
  groupId: string;
  progress: Progress;
  /** Called with every fetched batch of one partition; progress is notified after it returns. */
  onBatch(messages: readonly KafkaMessage[], topic: string): Promise<void> | void;
  partitionsConsumedConcurrently?: number;
  readyTimeoutMs?: number;
  /** How long the broker may hold an empty fetch; 50 ms unless told (the platform's bus waits 100 ms). */
  maxWaitTimeInMs?: number;
}

/**
 * A consumer in its own group that starts at the end of the topic, returned only once it can
 * see what is produced next: joined, partitions assigned and their offsets resolved (kafkajs
 * resolves "latest" on the first fetch). Producing before that point could silently skip
 * records on a topic that already has some, which would read as missing messages.
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const consumer: Consumer = options.kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: true,
    // Short fetch waits: a record is seen as soon as it lands, which the latency figures rely on.
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 50,
  });
  let joined = false;
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const removers = [
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    }),
    consumer.on(consumer.events.FETCH, () => {
      if (joined) ready();
    }),
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        options.progress.fail(
          new Error(
            `consumer ${options.groupId} on ${options.topics.join(',')} crashed: ${event.payload.error.message}`,
          ),
        );
      }
    }),
  ];
  const stop = async (): Promise<void> => {
    for (const remove of removers) remove();
    await consumer.disconnect();
  };

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: false });
    await consumer.run({
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
      eachBatch: async ({ batch }) => {
        await options.onBatch(batch.messages, batch.topic);
        options.progress.notify();
      },
    });
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timedOut = sleep(timeoutMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([readyPromise.then(() => 'ready' as const), timedOut])) === 'timeout') {
      throw new Error(
        `consumer ${options.groupId} on ${options.topics.join(',')} was not assigned its partitions within ${timeoutMs} ms`,
      );
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  return { stop };
}

export interface StreamOptions {
  /** How many chunks to send, each in one produce call. */
  chunks: number;
  send(chunk: number): Promise<void>;
  /** Whether the window of unfinished work has room for another chunk. */
  hasRoom(): boolean;
  /** Produce calls outstanding at once. */
  concurrency: number;
  progress: Progress;
  /** Open-loop pacing: chunk i is not sent before start + i × intervalMs. Unset: as fast as the window allows. */
  intervalMs?: number;
  describe(): string;
}

/**
 * Produces at the pace the pipeline keeps up with: never more than the window in flight, so the
 * mock's small per-partition retention never drops a record that has not been read yet.
 */
export async function produceStream(options: StreamOptions): Promise<void> {
  const { progress } = options;
  let outstanding = 0;
  const startedAt = performance.now();
  for (let chunk = 0; chunk < options.chunks; chunk += 1) {
    if (options.intervalMs !== undefined) {
      const dueIn = startedAt + chunk * options.intervalMs - performance.now();
      if (dueIn > 0) await sleep(dueIn);
    }
    await progress.until(
      () => outstanding < options.concurrency && options.hasRoom(),
      () => `room to produce chunk ${chunk + 1}/${options.chunks}: ${options.describe()}`,
    );
    outstanding += 1;
    options.send(chunk).then(
      () => {
        outstanding -= 1;
        progress.notify();
      },
      (error: unknown) =>
        progress.fail(new Error(`produce failed: ${error instanceof Error ? error.message : String(error)}`)),
    );
  }
  await progress.until(
    () => outstanding === 0,
    () => `the last produce calls: ${options.describe()}`,
  );
}
