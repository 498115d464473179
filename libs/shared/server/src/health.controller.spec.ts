import { ReadinessRegistry } from './readiness';
import { startTestService, TestService } from './start-test-service.spec-helper';

describe('HealthController', () => {
  let service: TestService;

  beforeEach(async () => {
    service = await startTestService();
  });

  afterEach(async () => {
    await service.app.close();
  });

  it('answers /health/live with 200 ok', async () => {
    const response = await service.request('/health/live');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /health/ready with 200 when every check passes, the bus included', async () => {
    service.app.get(ReadinessRegistry).register({ name: 'database', check: async () => true });

    const response = await service.request('/health/ready');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { bus: true, database: true } });
  });

  it('answers /health/ready with 503 naming the failing check when one fails', async () => {
    service.app.get(ReadinessRegistry).register({ name: 'database', check: async () => false });

    const response = await service.request('/health/ready');

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not_ready', checks: { bus: true, database: false } });
  });

  it('counts a check that throws as failing', async () => {
    service.app.get(ReadinessRegistry).register({
      name: 'database',
      check: () => Promise.reject(new Error('connection refused')),
    });

    const response = await service.request('/health/ready');

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not_ready', checks: { bus: true, database: false } });
  });
});
