import { InMemoryBus, type Subscription } from '@mmp/bus';
import { CLOCK, FixedClock, SandboxClock, type Clock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { SandboxClockTopic } from '@mmp/contracts';
import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';

import { bootstrapService } from './bootstrap-service';
import { PlatformCoreModule } from './platform-core.module';
import { startTestService } from './start-test-service.spec-helper';

/**
 * On Kafka a new consumer group takes seconds to join, so services start before a live
 * subscription to the clock's moves sees anything: here it never does.
 */
class SlowToJoinBus extends InMemoryBus {
  override subscribe<T>(subscription: Subscription<T>): void {
    super.subscribe(
      subscription.topic.name === SandboxClockTopic.name
        ? { ...subscription, handler: async () => undefined }
        : subscription,
    );
  }
}

describe('PlatformCoreModule', () => {
  it('gives services the clock it was given', async () => {
    const service = await startTestService({}, { clock: new FixedClock(new Date('2030-02-03T04:05:06Z')) });
    try {
      const response = await service.authorized('/v1/now');

      expect(await response.json()).toEqual({ now: '2030-02-03T04:05:06.000Z' });
    } finally {
      await service.app.close();
    }
  });

  it('gives services the wall clock when none is given outside the sandbox', async () => {
    const service = await startTestService();
    try {
      const before = Date.now();
      const { now } = (await (await service.authorized('/v1/now')).json()) as { now: string };

      expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(now)).toBeLessThanOrEqual(Date.now());
    } finally {
      await service.app.close();
    }
  });

  it('accepts a SandboxClock of its own in the sandbox', () => {
    const config = AppConfig.fromEnvironment({ SANDBOX: 'true' });

    expect(() =>
      PlatformCoreModule.forRoot({ config, bus: new InMemoryBus(), clock: new SandboxClock() }),
    ).not.toThrow();
  });

  it('refuses, in the sandbox, a clock that the sandbox endpoint could not move', () => {
    const config = AppConfig.fromEnvironment({ SANDBOX: 'true' });

    expect(() =>
      PlatformCoreModule.forRoot({ config, bus: new InMemoryBus(), clock: new FixedClock(new Date()) }),
    ).toThrow('SANDBOX is on, so the clock must be a SandboxClock that /v1/sandbox/clock can move');
  });

  it('in the sandbox, starts a process at the clock moved before it started, ahead of any service init', async () => {
    const bus = new SlowToJoinBus();
    // What another process of the platform announced an hour ago (wall time), moving to 2099.
    const hourAgo = Date.now() - 3_600_000;
    await bus.publish(SandboxClockTopic, [
      {
        key: 'clock',
        value: {
          schemaVersion: 1,
          now: '2099-05-01T09:00:00.000Z',
          wallTime: new Date(hourAgo).toISOString(),
        },
      },
    ]);
    const seenAtInit: string[] = [];
    @Injectable()
    class TimeBasedWork implements OnModuleInit {
      constructor(@Inject(CLOCK) private readonly clock: Clock) {}
      onModuleInit(): void {
        seenAtInit.push(this.clock.now().toISOString());
      }
    }
    @Module({ providers: [TimeBasedWork] })
    class TimeBasedModule {}

    const app = await bootstrapService({
      name: 'late',
      config: AppConfig.fromEnvironment({ SANDBOX: 'true', PORT: '0', LOG_LEVEL: 'error' }),
      bus,
      services: [TimeBasedModule],
    });
    try {
      expect(seenAtInit).toHaveLength(1);
      // An hour on from the move, as for the process that made it.
      expect(Date.parse(seenAtInit[0] ?? '')).toBeGreaterThanOrEqual(Date.parse('2099-05-01T10:00:00Z'));
      expect(Date.parse(seenAtInit[0] ?? '')).toBeLessThan(Date.parse('2099-05-01T10:01:00Z'));
    } finally {
      await app.close();
      await bus.stop();
    }
  });
});
