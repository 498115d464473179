import { jsonBody, startTestService, TestService } from './start-test-service.spec-helper';

describe('MetricsController', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });

  afterAll(async () => {
    await service.app.close();
  });

  async function scrape(): Promise<string> {
    const response = await service.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  }

  it('exposes the default process metrics without an API key', async () => {
    expect(await scrape()).toContain('process_cpu_user_seconds_total');
  });

  it('counts requests by the matched route pattern rather than the raw URL', async () => {
    await service.authorized('/v1/customers/c-123');
    await service.authorized('/v1/customers/c-456');

    const text = await scrape();

    expect(text).toContain(
      'http_requests_total{method="GET",route="/v1/customers/:customerId",status="200"} 2',
    );
    expect(text).not.toContain('c-123');
  });

  it('times requests in a histogram with the same labels', async () => {
    await service.authorized('/v1/customers/c-789');

    expect(await scrape()).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/v1\/customers\/:customerId",status="200"\} \d+/,
    );
  });

  it('counts rejected requests, labelling unknown URLs as unmatched', async () => {
    await service.request('/v1/customers/c-1');
    await service.request('/no/such/page/42');
    await service.authorized('/v1/echo', jsonBody({ blob: 'x'.repeat(3 * 1024 * 1024) }));

    const text = await scrape();

    expect(text).toContain(
      'http_requests_total{method="GET",route="/v1/customers/:customerId",status="401"} 1',
    );
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain('http_requests_total{method="POST",route="unmatched",status="413"} 1');
    expect(text).not.toContain('/no/such/page');
  });
});
