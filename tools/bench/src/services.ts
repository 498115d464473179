import { join } from 'node:path';
import type { Type, INestApplication } from '@nestjs/common';
import { KafkaBus, type MessageBus } from '@mmp/bus';
import type { Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { loadProgramFromDir, ProgramStore, type Program } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { BenchContext } from './bench-case';

export const BENCH_API_KEY = 'bench-key';
/** The shipped program, wherever the bench is started from. */
const PROGRAM_DIR = join(__dirname, '..', '..', '..', 'program');

export interface BenchServicesOptions {
  /** Names the Kafka client (`bench-<name>-<runId>`) and the app. */
  name: string;
  services: readonly Type<unknown>[];
  /** Settings beside the run's database, brokers and API key (EMAIL_RATE_LIMIT, SANDBOX...). */
  env?: Record<string, string>;
  clock?: Clock;
  /** The shipped program (program/) unless given. */
  program?: Program;
  /** The bus the services run on, given their settings: the Kafka bus of the run unless told. */
  bus?: (config: AppConfig) => MessageBus;
}

/**
 * Services under test as their processes run them: on a fresh database of the run and the Kafka
 * bus (or the one given), HTTP on a free port, logging warnings only; stopped when the case ends. Returns the app,
 * the base URL of its HTTP server and the URL of its database.
 */
export async function startBenchServices(
  context: BenchContext,
  options: BenchServicesOptions,
): Promise<{ app: INestApplication; baseUrl: string; databaseUrl: string }> {
  const databaseUrl = await context.createDatabase();
  const config = AppConfig.fromEnvironment({
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: context.kafka.brokers.join(','),
    KAFKA_CLIENT_ID: `bench-${options.name}-${context.runId}`,
    PORT: '0',
    API_KEYS: BENCH_API_KEY,
    PROGRAM_DIR,
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const bus =
    options.bus?.(config) ?? new KafkaBus({ brokers: context.kafka.brokers, clientId: config.kafkaClientId });
  const app = await startServices({
    name: options.name,
    services: options.services,
    config,
    bus,
    ...(options.clock ? { clock: options.clock } : {}),
    program: new ProgramStore(options.program ?? loadProgramFromDir(config.programDir)),
  });
  context.onCleanup(async () => {
    await app.close();
    await bus.stop();
  });
  const baseUrl = await loopbackUrlOf(app);
  return { app, baseUrl, databaseUrl };
}
