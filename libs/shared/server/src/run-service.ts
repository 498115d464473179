import { createMessageBus, type MessageBus } from '@mmp/bus';
import { SandboxClock, SystemClock, type Clock } from '@mmp/clock';
import { AppConfig, type Environment } from '@mmp/config';
import { firstUnsearchableFolder, startEmbeddedPostgres } from '@mmp/persistence';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { startTelemetry } from '@mmp/telemetry';
import {
  Global,
  Logger,
  Module,
  type DynamicModule,
  type INestApplication,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { bootstrapService } from './bootstrap-service';
import { ProgramModule } from './program.module';

const CLEANUP = Symbol('ProcessCleanup');

/** Runs cleanup after Nest closed everything else (databases, consumers): embedded Postgres last. */
class ProcessCleanup implements OnApplicationShutdown {
  constructor(private readonly steps: readonly (() => Promise<void>)[]) {}

  async onApplicationShutdown(): Promise<void> {
    for (const step of this.steps) await step();
  }
}

@Global()
@Module({})
class ProcessCleanupModule {
  static forRoot(steps: readonly (() => Promise<void>)[]): DynamicModule {
    return {
      module: ProcessCleanupModule,
      providers: [{ provide: CLEANUP, useValue: new ProcessCleanup(steps) }],
    };
  }
}

export interface ServiceProcessOptions {
  /** `platform` for all six services in one process, else the service's name. */
  name: string;
  services: readonly Type<unknown>[];
  /** The environment the settings come from; only a process's entry point passes process.env. */
  env: Environment;
}

/**
 * The entry point of every service process (SPEC section 3): validates the settings, starts an
 * embedded Postgres when DATABASE_URL is unset, loads and validates the program (a bad program
 * stops start-up), picks Kafka or the in-process bus (durable, on that Postgres), and serves until SIGINT/SIGTERM.
 */
export async function runServiceProcess(options: ServiceProcessOptions): Promise<INestApplication> {
  const logger = new Logger(options.name);
  let config = AppConfig.fromEnvironment(options.env);
  const program = loadProgramFromDir(config.programDir);
  const telemetry = startTelemetry({ serviceName: options.name });
  const cleanup: (() => Promise<void>)[] = [() => telemetry.shutdown()];
  if (!config.databaseUrl) {
    const dataDir = embeddedDataDir(
      config.embeddedPostgresDir,
      options.env.EMBEDDED_PG_DIR !== undefined,
      logger,
    );
    logger.log(`DATABASE_URL is not set: starting an embedded Postgres in ${dataDir}`);
    // Stopped by the cleanup below, after Nest closed the consumers that still write to it.
    const embedded = await startEmbeddedPostgres({ dataDir, stopOnSignals: false });
    cleanup.unshift(() => embedded.stop());
    config = config.with({ databaseUrl: embedded.url });
  }
  if (!config.kafkaBrokers)
    logger.log('KAFKA_BROKERS is not set: using the in-process bus, kept in Postgres (schema bus)');
  const bus = createMessageBus(config);
  return startServices({ ...options, config, bus, program: new ProgramStore(program), cleanup });
}

/**
 * As root the embedded Postgres runs as the postgres user, which cannot enter a checkout in
 * root's home (mode 0700): the default data folder (`.data/postgres` in the checkout) then moves
 * to /var/tmp, one per checkout, and says so. A folder set in EMBEDDED_PG_DIR is used as given
 * (startEmbeddedPostgres names the mend when it is out of reach).
 */
function embeddedDataDir(configured: string, chosen: boolean, logger: Logger): string {
  const dataDir = resolve(configured);
  if (chosen || process.getuid?.() !== 0) return dataDir;
  const closed = firstUnsearchableFolder(dirname(dataDir));
  if (closed === undefined) return dataDir;
  const moved = join(
    '/var/tmp',
    `mmp-postgres-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
  );
  logger.warn(
    `${closed} cannot be entered by the postgres user the embedded Postgres runs as, so its data is kept in ${moved}; set EMBEDDED_PG_DIR to choose another folder`,
  );
  return moved;
}

/** Starts services on given infrastructure: what runServiceProcess does after choosing it, and what tests call. */
export async function startServices(options: {
  name: string;
  services: readonly Type<unknown>[];
  config: AppConfig;
  bus: MessageBus;
  program: ProgramStore;
  clock?: Clock;
  cleanup?: readonly (() => Promise<void>)[];
}): Promise<INestApplication> {
  const clock = options.clock ?? (options.config.sandbox ? new SandboxClock() : new SystemClock());
  return bootstrapService({
    name: options.name,
    config: options.config,
    bus: options.bus,
    clock,
    services: [
      ProgramModule.forRoot(options.program),
      ProcessCleanupModule.forRoot(options.cleanup ?? []),
      ...options.services,
    ],
  });
}
