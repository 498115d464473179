import { jsonBody, startTestService, TestService } from './start-test-service.spec-helper';

describe('SandboxController', () => {
  describe('with SANDBOX=true', () => {
    let service: TestService;

    beforeEach(async () => {
      service = await startTestService({ SANDBOX: 'true' });
    });

    afterEach(async () => {
      await service.app.close();
    });

    it('tells the current time of the platform clock', async () => {
      const before = Date.now();

      const response = await service.authorized('/v1/sandbox/clock');

      expect(response.status).toBe(200);
      const { now } = (await response.json()) as { now: string };
      expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(now)).toBeLessThanOrEqual(Date.now());
    });

    it('moves the clock forward and answers 200 with the new time, which services then see', async () => {
      const moved = await service.authorized('/v1/sandbox/clock', jsonBody({ now: '2099-05-01T09:00:00Z' }));

      expect(moved.status).toBe(200);
      expect(await moved.json()).toEqual({ now: '2099-05-01T09:00:00.000Z' });
      const seen = (await (await service.authorized('/v1/now')).json()) as { now: string };
      expect(Date.parse(seen.now)).toBeGreaterThanOrEqual(Date.parse('2099-05-01T09:00:00Z'));
      expect(Date.parse(seen.now)).toBeLessThan(Date.parse('2099-05-01T09:01:00Z'));
    });

    it('announces the move on sandbox.clock.v1 before answering, for every other process', async () => {
      const moved = await service.authorized('/v1/sandbox/clock', jsonBody({ now: '2099-05-01T09:00:00Z' }));

      expect(moved.status).toBe(200);
      expect(service.bus.messagesOn('sandbox.clock.v1')).toEqual([
        expect.objectContaining({
          key: 'clock',
          value: {
            schemaVersion: 1,
            now: '2099-05-01T09:00:00.000Z',
            wallTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          },
        }),
      ]);
    });

    it('answers 409 conflict when asked to move the clock back', async () => {
      await service.authorized('/v1/sandbox/clock', jsonBody({ now: '2099-05-01T09:00:00Z' }));

      const response = await service.authorized(
        '/v1/sandbox/clock',
        jsonBody({ now: '2099-04-01T09:00:00Z' }),
      );

      expect(response.status).toBe(409);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('conflict');
      expect(body.error.message).toMatch(
        /^the sandbox clock only moves forward: it is 2099-05-01T09:00:0.+, 2099-04-01T09:00:00.000Z is earlier$/,
      );
    });

    it('answers 400 naming the field when now is missing', async () => {
      const response = await service.authorized(
        '/v1/sandbox/clock',
        jsonBody({ when: '2099-05-01T09:00:00Z' }),
      );

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          code: 'validation_failed',
          message: 'now is required',
          details: [
            { path: 'now', message: 'is required: an ISO 8601 date-time such as 2025-01-31T09:00:00Z' },
          ],
        },
      });
    });

    it.each([['next tuesday'], ['2099-05-01'], ['2099-05-01T09:00:00'], [1_900_000_000_000]])(
      'answers 400 naming the field when now is %p',
      async (now) => {
        const response = await service.authorized('/v1/sandbox/clock', jsonBody({ now }));

        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          error: {
            code: 'validation_failed',
            message: 'now is not a valid date-time',
            details: [
              {
                path: 'now',
                message: 'must be an ISO 8601 date-time with a zone, such as 2025-01-31T09:00:00Z',
              },
            ],
          },
        });
      },
    );

    it('still needs an API key', async () => {
      const response = await service.request('/v1/sandbox/clock', jsonBody({ now: '2099-05-01T09:00:00Z' }));

      expect(response.status).toBe(401);
    });
  });

  describe('without SANDBOX', () => {
    let service: TestService;

    beforeAll(async () => {
      service = await startTestService();
    });

    afterAll(async () => {
      await service.app.close();
    });

    it('answers 404 to POST /v1/sandbox/clock and leaves the clock alone', async () => {
      const response = await service.authorized(
        '/v1/sandbox/clock',
        jsonBody({ now: '2099-05-01T09:00:00Z' }),
      );

      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
      const seen = (await (await service.authorized('/v1/now')).json()) as { now: string };
      expect(Date.parse(seen.now)).toBeLessThan(Date.parse('2099-01-01T00:00:00Z'));
    });

    it('answers 404 to GET /v1/sandbox/clock', async () => {
      const response = await service.authorized('/v1/sandbox/clock');

      expect(response.status).toBe(404);
    });
  });
});
