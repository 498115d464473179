import { requiresApiKey } from './api-key.guard';
import { OTHER_TEST_API_KEY, startTestService, TestService } from './start-test-service.spec-helper';

describe('requiresApiKey', () => {
  it.each(['/v1', '/v1/events', '/V1/events', '/v1/webhooks', '/v1/segment', '/v1/sandbox/clock'])(
    'protects %s',
    (path) => {
      expect(requiresApiKey(path)).toBe(true);
    },
  );

  it.each([
    '/v1/webhooks/twilio',
    '/V1/Webhooks/ses',
    // Segment write keys over HTTP Basic, checked by ingestion's SegmentWriteKeyGuard.
    '/v1/segment/batch',
    '/health/live',
    '/metrics',
    '/u/abc',
    '/t/abc',
    '/v10/x',
    '/',
  ])('leaves %s open', (path) => {
    expect(requiresApiKey(path)).toBe(false);
  });
});

describe('ApiKeyGuard', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });

  afterAll(async () => {
    await service.app.close();
  });

  it('answers 401 naming the missing header when a /v1 route is called without Authorization', async () => {
    const response = await service.request('/v1/customers/c-1');

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: 'missing Authorization header: send "Authorization: Bearer <api key>"',
      },
    });
  });

  it('answers 401 for a key that is not configured', async () => {
    const response = await service.request('/v1/customers/c-1', {
      headers: { authorization: 'Bearer nope' },
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: 'unknown API key' } });
  });

  it('answers 401 for an Authorization header that is not a bearer token', async () => {
    const response = await service.request('/v1/customers/c-1', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: 'the Authorization header must have the form "Bearer <api key>"',
      },
    });
  });

  it('lets a request with a configured key through', async () => {
    const response = await service.authorized('/v1/customers/c-1');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ customerId: 'c-1' });
  });

  it('accepts every configured key and any case of the Bearer scheme', async () => {
    const response = await service.request('/v1/customers/c-2', {
      headers: { authorization: `bearer ${OTHER_TEST_API_KEY}` },
    });

    expect(response.status).toBe(200);
  });

  it('still asks for a key when the path is written in another case', async () => {
    const response = await service.request('/V1/CUSTOMERS/c-1');

    expect(response.status).toBe(401);
  });

  it('leaves /v1/webhooks/* open for providers', async () => {
    const response = await service.request('/v1/webhooks/x', { method: 'POST' });

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ accepted: 'x' });
  });

  it('leaves the health endpoints open', async () => {
    const response = await service.request('/health/live');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });
});
