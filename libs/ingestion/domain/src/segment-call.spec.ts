import {
  mapSegmentCall,
  segmentBatchCalls,
  segmentEventType,
  SEGMENT_MAX_BATCH_BYTES,
  type SegmentMapping,
} from './segment-call';

const receivedAt = new Date('2026-03-01T12:00:00.000Z');

function mapped(call: Record<string, unknown>, type?: Parameters<typeof mapSegmentCall>[1]): unknown {
  const result = mapSegmentCall(call, type, receivedAt);
  if (!result.ok) throw new Error(`expected a mapping, got ${JSON.stringify(result.issues)}`);
  return result.event;
}

function refused(call: unknown, type?: Parameters<typeof mapSegmentCall>[1]): SegmentMapping & { ok: false } {
  const result = mapSegmentCall(call, type, receivedAt);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.event)}`);
  return result;
}

describe('mapSegmentCall', () => {
  it('maps identify to customer.updated: known traits by name, timezone and locale from the context, country from the address', () => {
    expect(
      mapped({
        type: 'identify',
        messageId: 'm-1',
        timestamp: '2026-02-28T10:00:00.000Z',
        userId: 'c-1',
        anonymousId: 'a-1',
        traits: {
          email: 'ada@example.com',
          phone: '+14155550100',
          first_name: 'Ada',
          lastName: 'Lovelace',
          birthday: '1990-12-10T00:00:00.000Z',
          plan: 'gold',
          address: { country: 'gb', city: 'London' },
          company: { name: 'Analytical Engines' },
          tags: ['vip', 'early'],
        },
        context: { timezone: 'Europe/London', locale: 'en-GB', ip: '127.0.0.1' },
      }),
    ).toEqual({
      eventId: 'm-1',
      type: 'customer.updated',
      occurredAt: '2026-02-28T10:00:00.000Z',
      customerId: 'c-1',
      anonymousId: 'a-1',
      traits: {
        email: 'ada@example.com',
        phone: '+14155550100',
        firstName: 'Ada',
        lastName: 'Lovelace',
        birthday: '1990-12-10',
        timezone: 'Europe/London',
        locale: 'en-GB',
        country: 'GB',
        plan: 'gold',
        address_city: 'London',
        company_name: 'Analytical Engines',
        tags: '["vip","early"]',
      },
    });
  });

  it('takes the type from the endpoint for a single call, and the time received when there is no timestamp', () => {
    expect(mapped({ messageId: 'm-2', anonymousId: 'a-1', traits: { plan: 'free' } }, 'identify')).toEqual({
      eventId: 'm-2',
      type: 'customer.updated',
      occurredAt: '2026-03-01T12:00:00.000Z',
      anonymousId: 'a-1',
      traits: { plan: 'free' },
    });
  });

  it('maps alias to identity.linked: previousId is the visitor linked to userId', () => {
    expect(
      mapped({
        type: 'alias',
        messageId: 'm-3',
        userId: 'c-1',
        previousId: 'a-1',
        timestamp: '2026-02-28T10:00:00Z',
      }),
    ).toEqual({
      eventId: 'm-3',
      type: 'identity.linked',
      occurredAt: '2026-02-28T10:00:00Z',
      customerId: 'c-1',
      anonymousId: 'a-1',
    });
    expect(refused({ type: 'alias', messageId: 'm-4', userId: 'c-1' }).issues).toEqual([
      { path: 'previousId', message: 'is required for alias' },
    ]);
  });

  it('maps Order Completed to order.placed: order_id, revenue as a decimal, products as items, coupon as discountCode', () => {
    expect(
      mapped({
        type: 'track',
        event: 'Order Completed',
        messageId: 'm-5',
        userId: 42,
        timestamp: '2026-02-28T10:00:00.000Z',
        properties: {
          order_id: 'o-1',
          revenue: 27.5,
          currency: 'usd',
          coupon: 'SPRING',
          affiliation: 'web',
          products: [
            { product_id: 'p-1', name: 'Mug', category: 'Kitchen', price: 9.99, quantity: 2 },
            { sku: 'SKU-2', price: '7.52' },
          ],
        },
      }),
    ).toEqual({
      eventId: 'm-5',
      type: 'order.placed',
      occurredAt: '2026-02-28T10:00:00.000Z',
      customerId: '42',
      properties: {
        affiliation: 'web',
        orderId: 'o-1',
        total: '27.5',
        currency: 'USD',
        discountCode: 'SPRING',
        items: [
          { sku: 'p-1', name: 'Mug', category: 'Kitchen', quantity: 2, price: '9.99' },
          { sku: 'SKU-2', quantity: 1, price: '7.52' },
        ],
      },
    });
  });

  it('maps Order Refunded to order.refunded and Product Viewed to product.viewed', () => {
    expect(
      mapped({
        type: 'track',
        event: 'Order Refunded',
        messageId: 'm-6',
        userId: 'c-1',
        timestamp: '2026-02-28T10:00:00.000Z',
        properties: { order_id: 'o-1', total: 10, currency: 'USD' },
      }),
    ).toMatchObject({
      type: 'order.refunded',
      properties: { orderId: 'o-1', amount: '10', currency: 'USD' },
    });
    expect(
      mapped({
        type: 'track',
        event: 'Product Viewed',
        messageId: 'm-7',
        anonymousId: 'a-1',
        properties: { product_id: 507, name: 'Mug' },
      }),
    ).toMatchObject({ type: 'product.viewed', properties: { sku: '507', name: 'Mug' } });
  });

  it('names any other track event segment.<words> and keeps its properties', () => {
    expect(
      mapped({
        type: 'track',
        event: 'Signed Up!',
        messageId: 'm-8',
        userId: 'c-1',
        properties: { plan: 'pro' },
      }),
    ).toMatchObject({ type: 'segment.signed_up', properties: { plan: 'pro' } });
    expect(segmentEventType('Order Completed (v2)')).toBe('segment.order_completed_v2');
    expect(segmentEventType('  Cart   Viewed ')).toBe('segment.cart_viewed');
    expect(segmentEventType('3D Model Rotated')).toBeUndefined();
    expect(refused({ type: 'track', event: '💥', messageId: 'm-9', userId: 'c-1' }).issues).toEqual([
      {
        path: 'event',
        message:
          '"💥" cannot be named as an event type: it must start with a letter (after lowercasing, other characters become "_")',
      },
    ]);
  });

  it('maps page, screen and group to segment.page_viewed, segment.screen_viewed and segment.group_joined', () => {
    expect(
      mapped({ type: 'page', name: 'Home', messageId: 'm-10', anonymousId: 'a-1', properties: { url: '/' } }),
    ).toMatchObject({ type: 'segment.page_viewed', properties: { url: '/', name: 'Home' } });
    expect(mapped({ type: 'screen', name: 'Cart', messageId: 'm-11', userId: 'c-1' })).toMatchObject({
      type: 'segment.screen_viewed',
      properties: { name: 'Cart' },
    });
    expect(
      mapped({ type: 'group', groupId: 'g-1', traits: { name: 'Acme' }, messageId: 'm-12', userId: 'c-1' }),
    ).toMatchObject({
      type: 'segment.group_joined',
      properties: { groupId: 'g-1', traits: { name: 'Acme' } },
    });
  });

  it('names the Segment field in every refusal, not ours', () => {
    expect(
      refused({
        type: 'track',
        event: 'Order Completed',
        messageId: 'm-13',
        userId: 'c-1',
        timestamp: '2026-02-28T10:00:00.000Z',
        properties: { revenue: 10, currency: 'USD' },
      }).issues,
    ).toEqual([{ path: 'properties.order_id', message: 'is required' }]);
    expect(
      refused({
        type: 'track',
        event: 'Order Completed',
        messageId: 'm-14',
        userId: 'c-1',
        timestamp: 'yesterday',
        properties: { order_id: 'o-1', revenue: -3, currency: 'dollars', products: [{ price: 1 }] },
      }).issues,
    ).toEqual([
      { path: 'timestamp', message: 'must be an ISO 8601 date-time with an offset' },
      { path: 'properties.revenue', message: 'must be a non-negative decimal string such as "129.90"' },
      { path: 'properties.currency', message: 'must be an ISO 4217 code such as "USD"' },
      { path: 'properties.products[0].sku', message: 'Invalid input: expected string, received undefined' },
    ]);
    expect(
      refused({
        type: 'identify',
        messageId: 'm-15',
        userId: 'c-1',
        traits: { first_name: 'x'.repeat(2000), address: { country: 'Britain' } },
        context: { timezone: 'Mars/Olympus' },
      }).issues.map((issue) => issue.path),
    ).toEqual(['traits.first_name', 'context.timezone', 'traits.address.country']);
  });

  it('refuses a call without messageId, without any id, or of an unknown type', () => {
    expect(refused({ type: 'identify', userId: 'c-1' }).issues).toEqual([
      {
        path: 'messageId',
        message: 'is required: it is the eventId, so that a retried call counts as a duplicate',
      },
    ]);
    expect(refused({ type: 'track', event: 'Clicked', messageId: 'm-16' }).issues).toEqual([
      { path: 'userId', message: 'customerId or anonymousId is required' },
    ]);
    expect(refused({ type: 'transmogrify', messageId: 'm-17' }).issues).toEqual([
      { path: 'type', message: 'must be one of identify, track, alias, page, screen, group' },
    ]);
    expect(refused('identify').issues).toEqual([{ path: '', message: 'a call must be a JSON object' }]);
  });

  it('refuses a call over 32 KB, naming its size', () => {
    const call = {
      type: 'track',
      event: 'Clicked',
      messageId: 'm-18',
      userId: 'c-1',
      properties: { blob: 'x'.repeat(33_000) },
    };
    expect(refused(call).issues).toEqual([
      {
        path: '',
        message: `a call must be at most 32 KB as JSON (got ${JSON.stringify(call).length} bytes)`,
      },
    ]);
  });
});

describe('segmentBatchCalls', () => {
  it('hands over the calls of a batch', () => {
    expect(segmentBatchCalls({ batch: [{ type: 'identify' }], sentAt: 'now' })).toEqual({
      ok: true,
      calls: [{ type: 'identify' }],
    });
  });

  it('refuses a body that is not a batch, and a batch over 500 KB', () => {
    expect(segmentBatchCalls({ calls: [] })).toMatchObject({
      ok: false,
      message: 'the body must be { "batch": [ ... ] }',
    });
    const big = { batch: Array.from({ length: 20 }, () => ({ blob: 'x'.repeat(30_000) })) };
    const size = JSON.stringify(big).length;
    expect(size).toBeGreaterThan(SEGMENT_MAX_BATCH_BYTES);
    expect(segmentBatchCalls(big)).toEqual({
      ok: false,
      tooLarge: true,
      message: `a batch must be at most 500 KB as JSON (got ${size} bytes)`,
      issues: [{ path: 'batch', message: `must be at most 500 KB as JSON (got ${size} bytes)` }],
    });
  });
});
