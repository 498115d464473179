import { BusModule, MESSAGE_BUS, MessageBus } from '@mmp/bus';
import { Clock, CLOCK, SandboxClock, SystemClock } from '@mmp/clock';
import { AppConfig, ConfigModule } from '@mmp/config';
import { DynamicModule, Module, Provider, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';

import { ApiKeyGuard } from './api-key.guard';
import { AppErrorFilter } from './app-error.filter';
import { HealthController } from './health.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { ReadinessRegistry } from './readiness';
import { SandboxController } from './sandbox.controller';
import { SandboxClockSync } from './sandbox-clock-sync';

export interface PlatformCoreOptions {
  config: AppConfig;
  bus: MessageBus;
  /** Defaults to a SandboxClock when config.sandbox is on, else the system clock. */
  clock?: Clock;
}

function clockProviders(config: AppConfig, bus: MessageBus, given: Clock | undefined): Provider[] {
  if (!config.sandbox) return [{ provide: CLOCK, useValue: given ?? new SystemClock() }];
  const clock = given ?? new SandboxClock();
  // Caught at start-up rather than on the first POST /v1/sandbox/clock.
  if (!(clock instanceof SandboxClock)) {
    throw new Error('SANDBOX is on, so the clock must be a SandboxClock that /v1/sandbox/clock can move');
  }
  return [
    { provide: CLOCK, useValue: clock },
    { provide: SandboxClock, useValue: clock },
    {
      provide: SandboxClockSync,
      // Awaited while Nest creates providers, before any module's init hook, worker or consumer
      // runs: a process started after a move does nothing at the wall time first.
      useFactory: async (): Promise<SandboxClockSync> => {
        const sync = new SandboxClockSync(clock, bus);
        sync.listen();
        await sync.catchUp();
        return sync;
      },
    },
  ];
}

/**
 * What every service process has once, whichever services it runs: the config, the bus, the
 * clock, the readiness checks, API-key authentication, the error shape, health, metrics and (in
 * the sandbox) the clock endpoints. Service modules are imported next to it and inject
 * AppConfig, MESSAGE_BUS, CLOCK and ReadinessRegistry without importing anything. In the sandbox,
 * SandboxClockSync keeps the clock on every move accepted by any process of the platform.
 */
@Module({})
export class PlatformCoreModule {
  static forRoot(options: PlatformCoreOptions): DynamicModule {
    const { config, bus } = options;
    const controllers: Type<unknown>[] = [HealthController, MetricsController];
    if (config.sandbox) controllers.push(SandboxController);
    return {
      module: PlatformCoreModule,
      global: true,
      imports: [ConfigModule.forRoot(config), BusModule.forRoot(bus)],
      controllers,
      providers: [
        ...clockProviders(config, bus, options.clock),
        {
          provide: ReadinessRegistry,
          useFactory: (messageBus: MessageBus) => {
            const readiness = new ReadinessRegistry();
            readiness.register({ name: 'bus', check: () => messageBus.isReady() });
            return readiness;
          },
          inject: [MESSAGE_BUS],
        },
        HttpMetrics,
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: AppErrorFilter },
      ],
      exports: [ConfigModule, BusModule, CLOCK, ReadinessRegistry, HttpMetrics],
    };
  }
}
