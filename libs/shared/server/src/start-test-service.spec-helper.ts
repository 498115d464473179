import { InMemoryBus } from '@mmp/bus';
import { CLOCK } from '@mmp/clock';
import type { Clock } from '@mmp/clock';
import { AppConfig, Environment } from '@mmp/config';
import { AppError } from '@mmp/errors';
import {
  Body,
  Controller,
  DynamicModule,
  Get,
  Inject,
  INestApplication,
  Module,
  Param,
  Post,
  Type,
} from '@nestjs/common';

import { bootstrapService } from './bootstrap-service';

export const TEST_API_KEY = 'test-key-1';
export const OTHER_TEST_API_KEY = 'test-key-2';

/** Routes that stand for a service's own: they show what the platform core does around them. */
@Controller()
class ProbeController {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  @Get('v1/customers/:customerId')
  customer(@Param('customerId') customerId: string): { customerId: string } {
    return { customerId };
  }

  @Post('v1/echo')
  echo(@Body() body: unknown): { received: unknown } {
    return { received: body };
  }

  @Post('v1/webhooks/:provider')
  webhook(@Param('provider') provider: string): { accepted: string } {
    return { accepted: provider };
  }

  @Get('v1/failures/validation')
  validationFailure(): never {
    throw AppError.validation('properties.total must be a decimal string', [
      { path: 'properties.total', message: 'must be a decimal string' },
    ]);
  }

  @Get('v1/failures/conflict')
  conflict(): never {
    throw AppError.conflict('the program version is already published');
  }

  @Get('v1/failures/crash')
  crash(): never {
    throw new Error('connection to db-primary:5432 refused for user admin');
  }

  @Get('v1/now')
  now(): { now: string } {
    return { now: this.clock.now().toISOString() };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

export type TestRequestInit = Omit<RequestInit, 'headers'> & { headers?: Record<string, string> };

export interface TestService {
  app: INestApplication;
  bus: InMemoryBus;
  /** fetch against the running app; a path such as `/health/live`. */
  request(path: string, init?: TestRequestInit): Promise<Response>;
  /** The same with `Authorization: Bearer <TEST_API_KEY>`. */
  authorized(path: string, init?: TestRequestInit): Promise<Response>;
}

export interface TestServiceOptions {
  clock?: Clock;
  /** Service modules to run next to the probe routes. */
  services?: ReadonlyArray<Type<unknown> | DynamicModule>;
}

/** A service on port 0 with the probe routes, an in-memory bus and two API keys. */
export async function startTestService(
  env: Environment = {},
  options: TestServiceOptions = {},
): Promise<TestService> {
  const config = AppConfig.fromEnvironment({
    PORT: '0',
    API_KEYS: `${TEST_API_KEY},${OTHER_TEST_API_KEY}`,
    LOG_LEVEL: 'error',
    ...env,
  });
  const bus = new InMemoryBus();
  const app = await bootstrapService({
    name: 'test',
    config,
    bus,
    clock: options.clock,
    services: [ProbeModule, ...(options.services ?? [])],
  });
  const url = await app.getUrl();
  const request = (path: string, init?: TestRequestInit) => fetch(`${url}${path}`, init);
  const authorized = (path: string, init: TestRequestInit = {}) =>
    request(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${TEST_API_KEY}` } });
  return { app, bus, request, authorized };
}

export function jsonBody(body: unknown): TestRequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
