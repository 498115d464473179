import { OnMessages, type IncomingMessage } from '@mmp/bus';
import { defineTopic } from '@mmp/contracts';
import { ConsoleLogger, Controller, Module } from '@nestjs/common';
import { z } from 'zod';

import { startTestService } from './start-test-service.spec-helper';

const PingTopic = defineTopic({
  name: 'test.server.pings.v1',
  schemaVersion: 1,
  schema: z.object({ n: z.number() }),
  description: 'pings for the bootstrap spec',
});

const handledPings: number[] = [];

@Controller()
class PingConsumer {
  @OnMessages(PingTopic, 'test-pings')
  async handle(batch: readonly IncomingMessage<{ n: number }>[]): Promise<void> {
    handledPings.push(...batch.map((message) => message.value.n));
  }
}

@Module({ controllers: [PingConsumer] })
class PingModule {}

describe('bootstrapService', () => {
  let logged: jest.SpyInstance;
  let warned: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(ConsoleLogger.prototype, 'log').mockImplementation(() => undefined);
    warned = jest.spyOn(ConsoleLogger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('listens on the configured port on all interfaces and logs where', async () => {
    const service = await startTestService();
    try {
      const url = await service.app.getUrl();

      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(logged).toHaveBeenCalledWith(`test listening on ${url}`, 'Bootstrap');
    } finally {
      await service.app.close();
    }
  });

  it('warns when the development API key is in use, and accepts that key', async () => {
    const service = await startTestService({ API_KEYS: undefined });
    try {
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('API_KEYS is not set'), 'Bootstrap');
      const response = await service.request('/v1/customers/c-1', {
        headers: { authorization: 'Bearer dev-key' },
      });
      expect(response.status).toBe(200);
    } finally {
      await service.app.close();
    }
  });

  it('does not warn about API keys when API_KEYS is set', async () => {
    const service = await startTestService();
    try {
      expect(warned).not.toHaveBeenCalledWith(expect.stringContaining('API_KEYS'), expect.anything());
    } finally {
      await service.app.close();
    }
  });

  it('serves the bus handlers of the service modules, which no API key guards', async () => {
    const service = await startTestService({}, { services: [PingModule] });
    try {
      await service.bus.publish(PingTopic, [
        { key: 'c-1', value: { n: 1 } },
        { key: 'c-1', value: { n: 2 } },
      ]);
      await service.bus.whenIdle();

      expect(handledPings).toEqual([1, 2]);
    } finally {
      await service.app.close();
    }
  });

  it('starts the bus, and stops it when the app closes', async () => {
    const service = await startTestService();
    expect(await service.bus.isReady()).toBe(true);

    await service.app.close();

    expect(await service.bus.isReady()).toBe(false);
  });
});
