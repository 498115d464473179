import type { BenchCase } from '../bench-case';
import { cpuFigure, measureCpu } from '../cpu';
import { withRatio, type Figure } from '../figures';
import { driver } from './ingestion-kafka.driver';
import { IngestionModule } from '@mmp/ingestion-service';
import { startBenchServices } from '../services';
import { RAW_CEILING_CPU_FIGURE, RAW_CEILING_FIGURE } from './raw-ceiling';

export const INGESTION_KAFKA_FIGURE = 'ingestion over Kafka (retail.events.v1 → profiles)';

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
  async run(context) {
    await startBenchServices(context, { name: 'ingestion', services: [IngestionModule] });
    context.log(`ingestion over Kafka: ${ROUNDS} rounds of ${EVENTS_PER_ROUND} events (window ${WINDOW})`);
    const { result, cpu } = await measureCpu(() =>
      context.runDriver(driver, {
        runId: context.runId,
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
      context.log(`ingestion over Kafka: ${result.redelivered} customer events seen twice (a rebalance)`);
    }
    const rate = Math.max(...result.rounds.map((round) => round.events / round.seconds));
    const figures: Figure[] = [
      withRatio(
        { name: INGESTION_KAFKA_FIGURE, value: rate, unit: 'events/s' },
        context.figure(RAW_CEILING_FIGURE),
      ),
      ...cpuFigure(
        context,
        'ingestion over Kafka: CPU per event (service, runtime threads, Postgres)',
        cpu(WARMUP_EVENTS + ROUNDS * EVENTS_PER_ROUND),
        RAW_CEILING_CPU_FIGURE,
      ),
    ];
    return figures;
  },
};
