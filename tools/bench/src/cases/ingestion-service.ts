import { join } from 'node:path';
import { KafkaBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { IngestionModule } from '@mmp/ingestion-service';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { startServices } from '@mmp/server';
import type { BenchContext } from '../bench-case';

export const INGESTION_API_KEY = 'bench-key';
const PROGRAM_DIR = join(__dirname, '..', '..', '..', '..', 'program');

/**
 * Ingestion alone, as its own process runs it (HTTP and the retail.events.v1 consumer), on a
 * fresh database and the Kafka bus; every event is published on customer.events.v1 as in
 * production. Returns the base URL of its HTTP server.
 */
export async function startIngestion(context: BenchContext): Promise<string> {
  const databaseUrl = await context.createDatabase();
  const config = AppConfig.fromEnvironment({
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: context.kafka.brokers.join(','),
    KAFKA_CLIENT_ID: `bench-ingestion-${context.runId}`,
    PORT: '0',
    API_KEYS: INGESTION_API_KEY,
    PROGRAM_DIR,
    LOG_LEVEL: 'warn',
  });
  const bus = new KafkaBus({ brokers: context.kafka.brokers, clientId: config.kafkaClientId });
  const app = await startServices({
    name: 'ingestion',
    services: [IngestionModule],
    config,
    bus,
    program: new ProgramStore(loadProgramFromDir(config.programDir)),
  });
  context.onCleanup(async () => {
    await app.close();
    await bus.stop();
  });
  return (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
}
