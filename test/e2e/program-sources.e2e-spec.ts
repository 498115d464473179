import { sandboxOutbox } from '@mmp/channel-sandbox';
import { api, expectedSecondOrderMessage } from './order-events';
import { usePlatform } from './platform';

/**
 * A program source with all six services in one process: the worked example of
 * program/examples/orders-source, a retailer's `orders` topic in its own JSON shape, mapped to
 * order.placed and order.refunded and sending the second-order email.
 */
describe('a program source (the orders example), in one process', () => {
  const platform = usePlatform({ PROGRAM_DIR: 'program/examples/orders-source' });
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  function order(customerId: string, ref: string, at: string, extra: Record<string, unknown> = {}) {
    return {
      order_ref: ref,
      status: 'PLACED',
      at,
      customer: { id: customerId, email: `${customerId}@example.com`, first_name: 'Ann' },
      amount_cents: 12990,
      currency: 'usd',
      lines: [{ sku: 'MUG', qty: 2, unit_cents: 6495 }],
      ...extra,
    };
  }

  async function send(...values: (Record<string, unknown> | string)[]) {
    await platform.bus.publishRaw(
      'orders',
      values.map((value) => ({
        key: 'shop-1',
        value: typeof value === 'string' ? value : JSON.stringify(value),
      })),
    );
    await platform.bus.whenIdle();
  }

  it('ingests the retailer’s orders and refunds: the profile, the milestone and the message', async () => {
    const customerId = 'c-source-1';
    await send(
      order(customerId, 'A-1', minutesAgo(30)),
      order(customerId, 'A-2', minutesAgo(20), { amount_cents: 4010, lines: [] }),
      {
        order_ref: 'A-2',
        status: 'REFUNDED',
        at: minutesAgo(10),
        customer: { id: customerId },
        amount_cents: 1000,
        currency: 'usd',
      },
      // The retailer's producer retried: the same order and status is the same event.
      order(customerId, 'A-1', minutesAgo(30)),
    );

    const profile = await api(platform.baseUrl, `/v1/customers/${customerId}`);
    expect(profile.body).toMatchObject({
      traits: { email: `${customerId}@example.com`, firstName: 'Ann' },
      attributes: {
        lifetimeOrders: 2,
        lifetimeValue: '160.00',
        eventCounts: { 'order.placed': 2, 'order.refunded': 1 },
      },
    });
    const milestones = await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`);
    expect(milestones.body).toMatchObject([{ key: 'second_order' }]);
    const messages = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
    expect(messages.body).toMatchObject([expectedSecondOrderMessage(customerId)]);
    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    expect(platform.bus.messagesOn('orders.dlq')).toEqual([]);
  });

  it('sends a record that does not map, is not JSON, or whose event is refused to orders.dlq with the reason; its neighbours are ingested', async () => {
    const customerId = 'c-source-2';
    const unmappable = order(customerId, 'B-1', minutesAgo(5), { currency: 'dollars' });
    const foreignMoney = order(customerId, 'B-3', minutesAgo(3), { currency: 'eur' });
    await send(unmappable, 'not json', order(customerId, 'B-2', minutesAgo(4)), foreignMoney);

    const letters = platform.bus.messagesOn('orders.dlq').map((letter) => ({
      value: letter.value,
      reason: letter.headers['dlq-reason'],
      from: `${letter.headers['dlq-source-topic']} ${letter.headers['dlq-consumer-group']}`,
    }));
    expect(letters).toEqual([
      {
        value: 'not json',
        reason: expect.stringMatching(/^value is not JSON: /),
        from: 'orders ingestion',
      },
      {
        value: unmappable,
        reason: 'properties.currency: must be an ISO 4217 code such as "USD" (from mapping.properties)',
        from: 'orders ingestion',
      },
      {
        value: foreignMoney,
        reason: "properties.currency: must be USD, the currency of the customer's earlier orders (got EUR)",
        from: 'orders ingestion',
      },
    ]);
    const profile = await api(platform.baseUrl, `/v1/customers/${customerId}`);
    expect(profile.body).toMatchObject({ attributes: { lifetimeOrders: 1, lifetimeValue: '129.90' } });
  });
});
