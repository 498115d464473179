/**
 * The retailer events of the order path for one customer: a registration, then two orders, with
 * occurredAt minutes before `now` (recent enough to trigger). The end-to-end specs and the
 * benchmark send exactly these, so both exercise the same path.
 */
export function orderPathEvents(customerId: string, now: Date = new Date()) {
  const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();
  return [
    {
      eventId: `${customerId}-reg`,
      type: 'customer.registered',
      occurredAt: at(30),
      customerId,
      traits: { email: `${customerId}@example.com`, firstName: 'Ann', timezone: 'America/New_York' },
    },
    {
      eventId: `${customerId}-o1`,
      type: 'order.placed',
      occurredAt: at(20),
      customerId,
      properties: { orderId: `${customerId}-order-1`, total: '129.90', currency: 'USD' },
    },
    {
      eventId: `${customerId}-o2`,
      type: 'order.placed',
      occurredAt: at(10),
      customerId,
      properties: { orderId: `${customerId}-order-2`, total: '40.10', currency: 'USD' },
    },
  ];
}
