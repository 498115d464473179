import { BusServer, MessageBus } from '@mmp/bus';
import { Clock } from '@mmp/clock';
import { AppConfig, DEVELOPMENT_API_KEY } from '@mmp/config';
import { ConsoleLogger, DynamicModule, INestApplication, LogLevel, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { HttpMetrics } from './http-metrics';
import { OpenApiModule } from './openapi';
import { PlatformCoreModule } from './platform-core.module';

/** Large enough for a batch of 1,000 events (SPEC section 4), small enough to refuse a runaway client. */
export const JSON_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

export interface ServiceBootstrapOptions {
  /** Names the process in its log lines: a service (`ingestion`) or `platform`. */
  name: string;
  config: AppConfig;
  bus: MessageBus;
  clock?: Clock;
  /**
   * The service modules to run next to the one PlatformCoreModule that this builds: one for a
   * service alone, all six for the one-process platform. They must not import PlatformCoreModule.
   */
  services: ReadonlyArray<Type<unknown> | DynamicModule>;
  /**
   * Steps run in order once the application has closed, after every shutdown hook: the embedded
   * Postgres's stop, which must outlive the connections and workers that use it.
   */
  afterClose?: readonly (() => Promise<void>)[];
}

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The root of a service process; its imports come from bootstrapService. */
@Module({})
class ServiceRootModule {}

const LEVELS_BY_SEVERITY: readonly LogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];

function logLevelsFrom(least: AppConfig['logLevel']): LogLevel[] {
  return LEVELS_BY_SEVERITY.slice(LEVELS_BY_SEVERITY.indexOf(least));
}

/**
 * Starts a service process: HTTP on config.port (all interfaces) and the bus consumers of the
 * given service modules. Returns the running app; `app.getUrl()` tells where it listens (useful
 * with port 0), and `app.close()` stops HTTP and the bus consumers.
 */
export async function bootstrapService(options: ServiceBootstrapOptions): Promise<INestApplication> {
  const { name, config, bus } = options;
  const logger = new ConsoleLogger({ prefix: name, logLevels: logLevelsFrom(config.logLevel) });
  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [
      PlatformCoreModule.forRoot({ config, bus, clock: options.clock }),
      ...options.services,
      OpenApiModule.forRoot(options.services),
    ],
  };
  const app = await NestFactory.create<NestExpressApplication>(root, { logger });
  try {
    // Mounted before the body parsers so that bodies they reject are still counted.
    app.use(app.get(HttpMetrics).middleware());
    app.useBodyParser('json', { limit: JSON_BODY_LIMIT_BYTES });
    app.connectMicroservice({ strategy: new BusServer(bus) });
    closeOnSignals(app, options.afterClose ?? []);
    await app.startAllMicroservices();
    await app.listen(config.port, '0.0.0.0');
  } catch (error) {
    await app.close();
    throw error;
  }
  logger.log(`${name} listening on ${await app.getUrl()}`, 'Bootstrap');
  if (config.usingDevelopmentApiKey) {
    logger.warn(
      `API_KEYS is not set: /v1 accepts the development API key "${DEVELOPMENT_API_KEY}". Set API_KEYS before anyone else can reach this port.`,
      'Bootstrap',
    );
  }
  return app;
}

/**
 * SIGINT and SIGTERM close the application, then run `afterClose`, then end the process by the
 * same signal. Nest's own `enableShutdownHooks` has no step after its last hook, so the embedded
 * Postgres stopped there while other hooks still used it. `app.close()` runs the same steps.
 */
function closeOnSignals(app: INestApplication, afterClose: readonly (() => Promise<void>)[]): void {
  const closeApp = app.close.bind(app);
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    void app.close().then(
      () => process.kill(process.pid, signal),
      (error: unknown) => {
        console.error(`shutdown after ${signal} failed:`, error);
        process.exit(1);
      },
    );
  };
  for (const signal of SHUTDOWN_SIGNALS) process.once(signal, onSignal);
  app.close = () => {
    closing ??= (async () => {
      for (const signal of SHUTDOWN_SIGNALS) process.removeListener(signal, onSignal);
      await closeApp();
      for (const step of afterClose) await step();
    })();
    return closing;
  };
}
