import type { BenchCase, BenchContext } from '../bench-case';
import { cpuFigure, measureCpu } from '../cpu';
import { withRatio, type Figure } from '../figures';
import { driver, type IngestionHttpInput } from './ingestion-http.driver';
import { IngestionModule } from '@mmp/ingestion-service';
import { BENCH_API_KEY, startBenchServices } from '../services';
import { RAW_CEILING_CPU_FIGURE, RAW_CEILING_FIGURE } from './raw-ceiling';

export const INGESTION_HTTP_FIGURE = 'ingestion over HTTP (batches of 1000 → profiles)';
export const INGESTION_HTTP_CPU_FIGURE =
  'ingestion over HTTP: CPU per event (service, runtime threads, Postgres)';
const BENCH_SEGMENT_WRITE_KEY = 'bench-segment-key';

const BATCH_SIZE = 1000;
/** 60 batches: long enough to average over checkpoints and autovacuum, short enough for a 2-core run. */
const BATCHES = 60;
const WARMUP_BATCHES = 6;
const CONCURRENCY = 4;
/** 250 customers of 4 events each per batch: registration, two orders, a view. */
const CUSTOMERS_PER_BATCH = 250;

/**
 * Ingestion alone, as its process runs it, on a fresh database and the Kafka bus (each event is
 * published on customer.events.v1, as in production): a concurrent client in the driver thread
 * posts batches of 1000 new events to `POST /v1/events`; the figure is events per second from
 * the first measured request to the last answer, each answer having accepted all 1000.
 */
export const ingestionHttpCase: BenchCase = {
  id: 'ingestion-http',
  description:
    'ingestion alone: POST /v1/events, batches of 1000 from 4 concurrent requests → profiles → customer.events.v1',
  run: async (context) =>
    runIngestionOverHttp(context, {
      api: 'events',
      label: 'ingestion over HTTP',
      figure: INGESTION_HTTP_FIGURE,
      baseline: RAW_CEILING_FIGURE,
      cpuBaseline: RAW_CEILING_CPU_FIGURE,
    }),
};

/** The HTTP ingestion figures for one API: events/s with its ratio to `baseline`, request p99, CPU per event. */
export async function runIngestionOverHttp(
  context: BenchContext,
  options: {
    api: IngestionHttpInput['api'];
    label: string;
    figure: string;
    baseline: string;
    cpuBaseline: string;
  },
): Promise<Figure[]> {
  const { api, label } = options;
  const { baseUrl } = await startBenchServices(context, {
    name: 'ingestion',
    services: [IngestionModule],
    env: { SEGMENT_WRITE_KEYS: BENCH_SEGMENT_WRITE_KEY },
  });
  context.log(
    `${label}: posting ${BATCHES} batches of ${BATCH_SIZE} (${CONCURRENCY} at a time) to ${baseUrl}`,
  );
  const { result, cpu } = await measureCpu(() =>
    context.runDriver(driver, {
      runId: context.runId,
      baseUrl,
      api,
      key: api === 'segment' ? BENCH_SEGMENT_WRITE_KEY : BENCH_API_KEY,
      warmupBatches: WARMUP_BATCHES,
      batches: BATCHES,
      batchSize: BATCH_SIZE,
      concurrency: CONCURRENCY,
      customersPerBatch: CUSTOMERS_PER_BATCH,
    }),
  );
  context.log(
    `${label}: ${result.events} events in ${result.seconds.toFixed(2)} s; request p50 ${result.requestMs.p50.toFixed(0)} ms, p99 ${result.requestMs.p99.toFixed(0)} ms`,
  );
  const rate = result.events / result.seconds;
  return [
    withRatio({ name: options.figure, value: rate, unit: 'events/s' }, context.figure(options.baseline)),
    { name: `${label} request p99 (batch of 1000)`, value: result.requestMs.p99, unit: 'ms' },
    ...cpuFigure(
      context,
      `${label}: CPU per event (service, runtime threads, Postgres)`,
      cpu((WARMUP_BATCHES + BATCHES) * BATCH_SIZE),
      options.cpuBaseline,
    ),
  ];
}
