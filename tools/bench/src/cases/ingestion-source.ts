import { IngestionModule } from '@mmp/ingestion-service';
import { loadProgramFromDir, validateProgram } from '@mmp/program';
import { join } from 'node:path';
import type { BenchCase } from '../bench-case';
import { startBenchServices } from '../services';
import { BENCH_SOURCE_MAPPING } from './ingestion-events';
import { INGESTION_KAFKA_CPU_FIGURE, INGESTION_KAFKA_FIGURE, runIngestionOverKafka } from './ingestion-kafka';

/**
 * A mapped JSON program source under the Kafka case's load: the same events as a retailer's own
 * records (asRetailerRecord) on a topic of the run, mapped back by JSONata (BENCH_SOURCE_MAPPING);
 * the ratio to `ingestion-kafka` is what the mapping costs.
 */
export const ingestionSourceCase: BenchCase = {
  id: 'ingestion-source',
  description:
    'ingestion alone: a mapped JSON program source (JSONata) → profiles → customer.events.v1, the ingestion-kafka stream',
  async run(context) {
    const topic = `bench.orders.${context.runId}`;
    const shipped = loadProgramFromDir(join(__dirname, '..', '..', '..', '..', 'program'));
    const program = validateProgram({
      ...shipped,
      sources: [{ topic, format: 'json', mapping: BENCH_SOURCE_MAPPING }],
    });
    await startBenchServices(context, { name: 'ingestion', services: [IngestionModule], program });
    return runIngestionOverKafka(context, {
      topic,
      dlq: `${topic}.dlq`,
      shape: 'retailer',
      label: 'ingestion of a mapped source',
      figure: 'ingestion of a mapped JSON source (JSONata → profiles)',
      baseline: INGESTION_KAFKA_FIGURE,
      cpuBaseline: INGESTION_KAFKA_CPU_FIGURE,
    });
  },
};
