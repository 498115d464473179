import { ConsoleLogger } from '@nestjs/common';

import { jsonBody, startTestService, TestService } from './start-test-service.spec-helper';

describe('AppErrorFilter', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });

  afterAll(async () => {
    await service.app.close();
  });

  it('answers an AppError with the status of its code and the one error shape, details included', async () => {
    const response = await service.authorized('/v1/failures/validation');

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: {
        code: 'validation_failed',
        message: 'properties.total must be a decimal string',
        details: [{ path: 'properties.total', message: 'must be a decimal string' }],
      },
    });
  });

  it('leaves details out when an AppError has none', async () => {
    const response = await service.authorized('/v1/failures/conflict');

    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error: { code: 'conflict', message: 'the program version is already published' },
    });
  });

  it('answers a body that is not JSON with 400 bad_request', async () => {
    const response = await service.authorized('/v1/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"eventId": "e-1",',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'bad_request', message: 'request body is not valid JSON' },
    });
  });

  it('accepts a JSON body of 1.5 MB, as a large event batch is', async () => {
    const blob = 'x'.repeat(1.5 * 1024 * 1024);

    const response = await service.authorized('/v1/echo', jsonBody({ blob }));

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ received: { blob } });
  });

  it('answers a 3 MB body with 413 payload_too_large naming the 2 MB limit', async () => {
    const response = await service.authorized('/v1/echo', jsonBody({ blob: 'x'.repeat(3 * 1024 * 1024) }));

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: { code: 'payload_too_large', message: 'request body is larger than the 2 MB limit' },
    });
  });

  it('answers an unknown route with 404 not_found in the error shape', async () => {
    const response = await service.request('/nowhere');

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'Cannot GET /nowhere' } });
  });

  it('answers an unexpected error with a generic 500 and logs it with its stack', async () => {
    const logged = jest.spyOn(ConsoleLogger.prototype, 'error').mockImplementation(() => undefined);

    const response = await service.authorized('/v1/failures/crash');

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'internal', message: 'internal server error' } });
    expect(logged).toHaveBeenCalledWith(
      'GET /v1/failures/crash failed: connection to db-primary:5432 refused for user admin',
      expect.stringContaining('ProbeController.crash'),
      'AppErrorFilter',
    );
  });
});
