export { orderPathEvents } from '@mmp/test-harness';

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
