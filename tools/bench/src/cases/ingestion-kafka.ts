import { RetailEventsTopic } from '@mmp/contracts';
import type { BenchCase, BenchContext } from '../bench-case';
import { cpuFigure, measureCpu } from '../cpu';
import { withRatio, type Figure } from '../figures';
import { driver, type IngestionKafkaInput } from './ingestion-kafka.driver';
import { IngestionModule } from '@mmp/ingestion-service';
import { startBenchServices } from '../services';
import { RAW_CEILING_CPU_FIGURE, RAW_CEILING_FIGURE } from './raw-ceiling';

export const INGESTION_KAFKA_FIGURE = 'ingestion over Kafka (retail.events.v1 → profiles)';
export const INGESTION_KAFKA_CPU_FIGURE =
  'ingestion over Kafka: CPU per event (service, runtime threads, Postgres)';

const ROUNDS = 3;
const EVENTS_PER_ROUND = 40_000;
const WARMUP_EVENTS = 8_000;
/** Like the HTTP case's batches: 1000 events of 250 customers per produce call. */
const CHUNK_EVENTS = 1_000;
const CUSTOMERS_PER_CHUNK = 250;
/** Well under what the mock keeps per partition (~5 MB, ~20k of these events). */
const WINDOW = 8_000;

/**
 * Ingestion alone consuming retail.events.v1, as its process runs it: the driver thread streams
 * the HTTP case's mix of events into the topic; the figure is events per second from a round's
 * first produce to the last of its events on customer.events.v1 (profile stored and published),
 * the best of three rounds, as the raw ceiling it is divided by.
 */
export const ingestionKafkaCase: BenchCase = {
  id: 'ingestion-kafka',
  description:
    'ingestion alone: retail.events.v1 → profiles → customer.events.v1, streamed in chunks of 1000',
  run: async (context) => {
    await startBenchServices(context, { name: 'ingestion', services: [IngestionModule] });
    return runIngestionOverKafka(context, {
      topic: RetailEventsTopic.name,
      dlq: RetailEventsTopic.dlq,
      shape: 'events',
      label: 'ingestion over Kafka',
      figure: INGESTION_KAFKA_FIGURE,
      baseline: RAW_CEILING_FIGURE,
      cpuBaseline: RAW_CEILING_CPU_FIGURE,
    });
  },
};

/** Streams the mix into `topic` of the running ingestion: events/s (best round) with its ratio to `baseline`, CPU per event. */
export async function runIngestionOverKafka(
  context: BenchContext,
  options: Pick<IngestionKafkaInput, 'topic' | 'dlq' | 'shape'> & {
    label: string;
    figure: string;
    baseline: string;
    cpuBaseline: string;
  },
): Promise<Figure[]> {
  const { label } = options;
  context.log(
    `${label}: ${ROUNDS} rounds of ${EVENTS_PER_ROUND} events into ${options.topic} (window ${WINDOW})`,
  );
  const { result, cpu } = await measureCpu(() =>
    context.runDriver(driver, {
      runId: context.runId,
      topic: options.topic,
      dlq: options.dlq,
      shape: options.shape,
      warmupEvents: WARMUP_EVENTS,
      rounds: ROUNDS,
      eventsPerRound: EVENTS_PER_ROUND,
      chunkEvents: CHUNK_EVENTS,
      customersPerChunk: CUSTOMERS_PER_CHUNK,
      window: WINDOW,
      stallTimeoutMs: context.options.stallTimeoutMs,
    }),
  );
  if (result.redelivered > 0) {
    context.log(`${label}: ${result.redelivered} customer events seen twice (a rebalance)`);
  }
  const rate = Math.max(...result.rounds.map((round) => round.events / round.seconds));
  return [
    withRatio({ name: options.figure, value: rate, unit: 'events/s' }, context.figure(options.baseline)),
    ...cpuFigure(
      context,
      `${label}: CPU per event (service, runtime threads, Postgres)`,
      cpu(WARMUP_EVENTS + ROUNDS * EVENTS_PER_ROUND),
      options.cpuBaseline,
    ),
  ];
}
