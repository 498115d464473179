import { InMemoryBus } from '@mmp/bus';
import { FixedClock, SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';

import { PlatformCoreModule } from './platform-core.module';
import { startTestService } from './start-test-service.spec-helper';

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
});
