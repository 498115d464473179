import { Analytics } from '@segment/analytics-node';
import { expectedSecondOrderMessage, api } from './order-events';
import { usePlatform } from './platform';

const WRITE_KEY = 'segment-write-key';

/** A Segment API call as Segment's clients send it: HTTP Basic with the write key as the user. */
async function segment(baseUrl: string, path: string, body: unknown, writeKey = WRITE_KEY) {
  const response = await fetch(`${baseUrl}/v1/segment/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * The Segment-compatible API with all six services in one process: Segment's own Node client,
 * pointed at the platform through its `host` and `path` settings, sends a visitor's identify and
 * order, the alias that names the customer, and the second order, which sends the email.
 */
describe('the Segment-compatible API, in one process', () => {
  const platform = usePlatform({ SEGMENT_WRITE_KEYS: `other-key, ${WRITE_KEY}` });

  it('takes identify, track and alias from @segment/analytics-node: the profile, the milestone and the message', async () => {
    const customerId = 'c-segment-1';
    const visitor = 'a-segment-1';
    const errors: unknown[] = [];
    const analytics = new Analytics({
      writeKey: WRITE_KEY,
      host: platform.baseUrl,
      path: '/v1/segment/batch',
      maxRetries: 0,
      flushInterval: 60_000,
    });
    analytics.on('error', (error) => errors.push(error));
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);

    analytics.identify({
      anonymousId: visitor,
      traits: { email: `${customerId}@example.com`, first_name: 'Ann', plan: 'gold' },
      context: { timezone: 'America/New_York' },
      timestamp: at(30),
    });
    analytics.track({
      anonymousId: visitor,
      event: 'Order Completed',
      properties: { order_id: `${customerId}-order-1`, revenue: 129.9, currency: 'USD' },
      timestamp: at(20),
    });
    analytics.alias({ previousId: visitor, userId: customerId, timestamp: at(15) });
    analytics.track({
      userId: customerId,
      event: 'Order Completed',
      properties: {
        order_id: `${customerId}-order-2`,
        total: 40.1,
        currency: 'USD',
        products: [{ product_id: 'mug-1', name: 'Mug', price: 20.05, quantity: 2 }],
      },
      timestamp: at(10),
    });
    await analytics.closeAndFlush();
    await platform.bus.whenIdle();

    expect(errors).toEqual([]);
    const profile = await api(platform.baseUrl, `/v1/customers/${customerId}`);
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({
      traits: {
        email: `${customerId}@example.com`,
        firstName: 'Ann',
        timezone: 'America/New_York',
        plan: 'gold',
      },
      attributes: {
        lifetimeOrders: 2,
        lifetimeValue: '170.00',
        eventCounts: { 'customer.updated': 1, 'identity.linked': 1, 'order.placed': 2 },
      },
    });
    const milestones = await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`);
    expect(milestones.body).toMatchObject([{ key: 'second_order', occurrence: '2' }]);
    const messages = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
    expect(messages.body).toMatchObject([expectedSecondOrderMessage(customerId)]);
  });

  it('counts a retried call, by its messageId, as a duplicate', async () => {
    const call = {
      messageId: 'segment-retry-1',
      userId: 'c-segment-2',
      event: 'Product Viewed',
      properties: { product_id: 'mug-1' },
      timestamp: new Date().toISOString(),
    };

    const first = await segment(platform.baseUrl, 'track', call);
    const retry = await segment(platform.baseUrl, 'track', call);

    expect(first).toEqual({ status: 200, body: { success: true, accepted: 1, duplicates: 0, rejected: [] } });
    expect(retry).toEqual({ status: 200, body: { success: true, accepted: 0, duplicates: 1, rejected: [] } });
  });

  it('refuses a call it cannot map, naming the Segment field, and keeps its neighbours in the batch', async () => {
    const now = new Date().toISOString();
    const posted = await segment(platform.baseUrl, 'batch', {
      batch: [
        {
          type: 'identify',
          messageId: 'segment-batch-1',
          userId: 'c-segment-3',
          traits: { plan: 'free' },
          timestamp: now,
        },
        {
          type: 'track',
          messageId: 'segment-batch-2',
          userId: 'c-segment-3',
          event: 'Order Completed',
          properties: { revenue: 10, currency: 'USD' },
          timestamp: now,
        },
        {
          type: 'track',
          messageId: 'segment-batch-3',
          userId: 'c-segment-3',
          event: 'Wishlist Shared',
          timestamp: now,
        },
      ],
    });

    expect(posted).toEqual({
      status: 200,
      body: {
        success: true,
        accepted: 2,
        duplicates: 0,
        rejected: [
          {
            index: 1,
            messageId: 'segment-batch-2',
            errors: [{ path: 'properties.order_id', message: 'is required' }],
          },
        ],
      },
    });
    await platform.bus.whenIdle();
    const profile = await api(platform.baseUrl, '/v1/customers/c-segment-3');
    expect(profile.body).toMatchObject({
      traits: { plan: 'free' },
      attributes: { eventCounts: { 'customer.updated': 1, 'segment.wishlist_shared': 1 } },
    });
  });

  it('answers a single unmappable call 400 with the reason, and a call over 32 KB 413', async () => {
    const refused = await segment(platform.baseUrl, 'alias', { messageId: 'segment-alias-1', userId: 'c-1' });
    expect(refused).toEqual({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          message: 'the alias call is invalid',
          details: [{ path: 'previousId', message: 'is required for alias' }],
        },
      },
    });

    const big = {
      messageId: 'segment-big-1',
      userId: 'c-1',
      event: 'Clicked',
      properties: { blob: 'x'.repeat(33_000) },
    };
    const tooLarge = await segment(platform.baseUrl, 'track', big);
    expect(tooLarge).toEqual({
      status: 413,
      body: {
        error: {
          code: 'payload_too_large',
          message: `a call must be at most 32 KB as JSON (got ${JSON.stringify(big).length} bytes)`,
        },
      },
    });
  });

  it('answers 401 to a wrong write key or a bearer API key', async () => {
    const call = { messageId: 'segment-auth-1', userId: 'c-1', traits: {} };
    expect(await segment(platform.baseUrl, 'identify', call, 'wrong-key')).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'unknown write key' } },
    });
    const bearer = await api(platform.baseUrl, '/v1/segment/identify', { method: 'POST', body: call });
    expect(bearer.status).toBe(401);
  });
});
