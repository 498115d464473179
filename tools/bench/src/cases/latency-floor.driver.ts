import { defineDriver } from '../driver';
import { LatencyRecorder } from '../latency';
import { Progress } from '../progress';
import { produceStream, startCollector } from '../streaming';

export interface LatencyFloorInput {
  runId: string;
  firstTopic: string;
  lastTopic: string;
  /** Events per second of each paced stream, one after the other. */
  rates: readonly number[];
  secondsPerRate: number;
  stallTimeoutMs: number;
}

export interface LatencyFloorOutput {
  byRate: { rate: number; events: number; p50: number; p99: number; keptUp: boolean }[];
}

/** One produce call this often, as the order path's paced phase does. */
const PACED_INTERVAL_MS = 100;
const CUSTOMERS = 10_000;

/**
 * Paces events into the chain's first topic and times each until it is read from the last, in
 * this thread (one clock for both ends): the latency of the hops alone, with no logic in them.
 */
export const driver = defineDriver(
  __filename,
  async (input: LatencyFloorInput, context): Promise<LatencyFloorOutput> => {
    const kafka = context.kafkaClient(`bench-floor-driver-${input.runId}`);
    const progress = new Progress(input.stallTimeoutMs);
    let latency = new LatencyRecorder();
    let received = 0;
    const sink = await startCollector({
      kafka,
      topics: [input.lastTopic],
      groupId: `bench-floor-sink-${input.runId}`,
      progress,
      onBatch: (messages) => {
        const now = performance.now();
        for (const message of messages) {
          const sentAt = Number(message.headers?.['sent-at']?.toString());
          latency.record(now - sentAt);
        }
        received += messages.length;
      },
    });
    const source = kafka.producer({ allowAutoTopicCreation: true });
    try {
      await source.connect();
      const byRate: LatencyFloorOutput['byRate'] = [];
      for (const rate of input.rates) {
        latency = new LatencyRecorder();
        const perChunk = Math.max(1, Math.round((rate * PACED_INTERVAL_MS) / 1000));
        const chunks = Math.max(1, Math.round((input.secondsPerRate * 1000) / PACED_INTERVAL_MS));
        const first = received;
        const startedAt = performance.now();
        await produceStream({
          chunks,
          concurrency: 4,
          progress,
          intervalMs: PACED_INTERVAL_MS,
          hasRoom: () => true,
          describe: () => `${received - first}/${chunks * perChunk} through the chain`,
          send: async (chunk) => {
            const sentAt = String(performance.now());
            await source.send({
              topic: input.firstTopic,
              acks: -1,
              messages: Array.from({ length: perChunk }, (_, offset) => {
                const index = chunk * perChunk + offset;
                return {
                  key: `c-${input.runId}-${index % CUSTOMERS}`,
                  value: `{"index":${index}}`,
                  headers: { 'sent-at': sentAt },
                };
              }),
            });
          },
        });
        const events = chunks * perChunk;
        await progress.until(
          () => received - first >= events,
          () => `${received - first}/${events} through the chain at ${rate} events/s`,
        );
        const plannedMs = chunks * PACED_INTERVAL_MS;
        const keptUp = performance.now() - startedAt <= plannedMs * 1.1 + 5_000;
        byRate.push({ rate, events, p50: latency.percentileMs(50), p99: latency.percentileMs(99), keptUp });
        context.log(`latency floor: ${rate} events/s: ${latency.summary()}`);
      }
      return { byRate };
    } finally {
      await source.disconnect();
      await sink.stop();
    }
  },
);
