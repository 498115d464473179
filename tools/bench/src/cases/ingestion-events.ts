/** One input event of the ingestion cases, with the key it is produced under. */
export interface IngestionBenchEvent {
  customerId: string;
  eventId: string;
  event: BenchEvent;
}

/**
 * The events both ingestion cases feed in, as a shop sends them: per customer a registration
 * with traits, two orders and a product view. Batch `batchIndex` holds `customersPerBatch`
 * customers of its own, so concurrent batches never wait on each other's profile locks.
 */
export function ingestionBatch(
  runId: string,
  batchIndex: number,
  batchSize: number,
  customersPerBatch: number,
): IngestionBenchEvent[] {
  const occurredAt = new Date().toISOString();
  return Array.from({ length: batchSize }, (_, i) => {
    const customerId = `${runId}-b${batchIndex}-c${i % customersPerBatch}`;
    const eventId = `${runId}-b${batchIndex}-e${i}`;
    const common = { eventId, occurredAt, customerId };
    switch (Math.floor(i / customersPerBatch) % 4) {
      case 0:
        return {
          customerId,
          eventId,
          event: {
            ...common,
            type: 'customer.registered',
            traits: { email: `${customerId}@example.com`, firstName: 'Ann', timezone: 'America/New_York' },
          },
        };
      case 1:
      case 3:
        return {
          customerId,
          eventId,
          event: {
            ...common,
            type: 'order.placed',
            properties: {
              orderId: eventId,
              total: '19.90',
              currency: 'USD',
              items: [{ sku: 'sku-1', quantity: 1, price: '19.90' }],
            },
          },
        };
      default:
        return {
          customerId,
          eventId,
          event: { ...common, type: 'product.viewed', properties: { sku: 'sku-1' } },
        };
    }
  });
}

/** The events of the mix, as `POST /v1/events` takes them. */
export interface BenchEvent {
  eventId: string;
  type: string;
  occurredAt: string;
  customerId: string;
  traits?: { email: string; firstName: string; timezone: string };
  properties?: {
    orderId?: string;
    total?: string;
    currency?: string;
    sku?: string;
    items?: { sku: string; quantity: number; price: string }[];
  };
}

/**
 * The same event as a Segment call (`/v1/segment/batch`): a registration as an identify, an
 * order as `Order Completed`, a view as `Product Viewed`; messageId is the eventId.
 */
export function asSegmentCall(e: BenchEvent): object {
  const common = { messageId: e.eventId, userId: e.customerId, timestamp: e.occurredAt };
  switch (e.type) {
    case 'customer.registered':
      return {
        ...common,
        type: 'identify',
        traits: { email: e.traits?.email, first_name: e.traits?.firstName },
        context: { timezone: e.traits?.timezone },
      };
    case 'order.placed':
      return {
        ...common,
        type: 'track',
        event: 'Order Completed',
        properties: {
          order_id: e.properties?.orderId,
          total: Number(e.properties?.total),
          currency: e.properties?.currency,
          products: e.properties?.items?.map((item) => ({
            sku: item.sku,
            quantity: item.quantity,
            price: Number(item.price),
          })),
        },
      };
    default:
      return { ...common, type: 'track', event: 'Product Viewed', properties: { sku: e.properties?.sku } };
  }
}

/** The same event as a record of a retailer's own topic, in the shape BENCH_SOURCE_MAPPING reads. */
export function asRetailerRecord(e: BenchEvent): object {
  const common = { id: e.eventId, ts: e.occurredAt, user: e.customerId };
  switch (e.type) {
    case 'customer.registered':
      return { ...common, kind: 'signup', profile: e.traits };
    case 'order.placed':
      return {
        ...common,
        kind: 'order',
        order: {
          ref: e.properties?.orderId,
          amount: e.properties?.total,
          currency: e.properties?.currency,
          lines: e.properties?.items?.map((item) => ({
            sku: item.sku,
            qty: item.quantity,
            price: item.price,
          })),
        },
      };
    default:
      return { ...common, kind: 'view', sku: e.properties?.sku };
  }
}

/** The JSONata mapping of the mapped-source case: asRetailerRecord's shape back to our events. */
export const BENCH_SOURCE_MAPPING = {
  eventId: 'id',
  type: "kind = 'order' ? 'order.placed' : kind = 'view' ? 'product.viewed' : 'customer.registered'",
  occurredAt: 'ts',
  customerId: 'user',
  traits: 'profile',
  properties:
    "kind = 'order' ? { 'orderId': order.ref, 'total': order.amount, 'currency': order.currency, 'items': [order.lines.{ 'sku': sku, 'quantity': qty, 'price': price }] } : kind = 'view' ? { 'sku': sku }",
};
