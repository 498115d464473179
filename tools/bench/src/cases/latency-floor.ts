import type { BenchCase } from '../bench-case';
import type { Figure } from '../figures';
import { Progress } from '../progress';
import { startCollector } from '../streaming';
import { driver } from './latency-floor.driver';

/** The order path's hops on Kafka: retail → customer events → milestones → message requests → status events. */
export const FLOOR_HOPS = 5;
/** What the platform's bus lets the broker hold an empty fetch for (KafkaBus's maxWaitTimeMs). */
const BUS_MAX_WAIT_MS = 100;
/** About 1,000 events/s, the paced rate, next to the order path's own paced rate. */
const FAST_PACED_EVENTS_PER_SECOND = 1_000;
const SECONDS_PER_RATE = 10;
const EVENTS_PER_CUSTOMER = 3;

export const latencyFloorFigure = (rate: number, percentile: 'p50' | 'p99'): string =>
  `raw ${FLOOR_HOPS}-hop kafkajs latency floor ${percentile} (${rate} events/s)`;

/**
 * The floor under the order path's paced latency: the same number of consume → produce hops
 * through this cluster, as raw kafkajs with no logic, each consumer fetching with the bus's wait
 * (the mock broker holds an empty fetch its whole maxWaitTime, so every hop costs time even
 * idle). The hops run in the main thread as the services do; the paced source and the sink in
 * the driver thread. Run next to `order-path` so both are measured on the same machine at once.
 */
export const latencyFloorCase: BenchCase = {
  id: 'latency-floor',
  description: `raw kafkajs chain of ${FLOOR_HOPS} consume → produce hops, paced`,
  async run(context) {
    const { options, runId } = context;
    const topics = Array.from({ length: FLOOR_HOPS + 1 }, (_, hop) => `bench.floor.${hop}.${runId}`);
    const kafka = context.kafkaClient(`bench-floor-hops-${runId}`);
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    context.onCleanup(() => producer.disconnect());
    const progress = new Progress(options.stallTimeoutMs);
    for (let hop = 0; hop < FLOOR_HOPS; hop += 1) {
      const to = topics[hop + 1] ?? '';
      const consumer = await startCollector({
        kafka,
        topics: [topics[hop] ?? ''],
        groupId: `bench-floor-hop-${hop}-${runId}`,
        progress,
        maxWaitTimeInMs: BUS_MAX_WAIT_MS,
        onBatch: async (messages) => {
          await producer.send({
            topic: to,
            acks: -1,
            messages: messages.map(({ key, value, headers }) => ({ key, value, headers })),
          });
        },
      });
      context.onCleanup(() => consumer.stop());
    }
    const rates = [...new Set([options.latencyRate * EVENTS_PER_CUSTOMER, FAST_PACED_EVENTS_PER_SECOND])];
    context.log(`latency floor: ${FLOOR_HOPS} hops, paced at ${rates.join(' and ')} events/s`);
    const result = await context.runDriver(driver, {
      runId,
      firstTopic: topics[0] ?? '',
      lastTopic: topics[FLOOR_HOPS] ?? '',
      rates,
      secondsPerRate: SECONDS_PER_RATE,
      stallTimeoutMs: options.stallTimeoutMs,
    });
    return result.byRate.flatMap(({ rate, p50, p99, keptUp }): Figure[] => {
      if (!keptUp) context.log(`latency floor: WARNING: the chain did not keep up with ${rate} events/s`);
      return [
        { name: latencyFloorFigure(rate, 'p50'), value: p50, unit: 'ms' },
        { name: latencyFloorFigure(rate, 'p99'), value: p99, unit: 'ms' },
      ];
    });
  },
};
