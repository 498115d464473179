/** The retailer events of the order path: a registration, then two orders for the same customer. */
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

/** The one message the default program sends for the path above, as GET /v1/customers/{id}/messages shows it. */
export function expectedSecondOrderMessage(customerId: string) {
  return {
    journeyKey: 'second_order_thanks',
    stepId: 'thank',
    milestoneKey: 'second_order',
    channel: 'email',
    template: 'second_order_email',
    variant: null,
    to: `${customerId}@example.com`,
    subject: 'Thanks for your second order, Ann!',
    body: 'Your order 2 means a lot to us.',
    status: 'sent',
    reason: null,
  };
}

export async function api(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? 'test-key'}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
