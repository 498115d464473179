/** One input event of the ingestion cases, with the key it is produced under. */
export interface IngestionBenchEvent {
  customerId: string;
  eventId: string;
  event: object;
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
