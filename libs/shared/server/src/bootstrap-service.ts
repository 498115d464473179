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
}

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
    app.enableShutdownHooks();
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
