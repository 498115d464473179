import { sandboxOutbox } from '@mmp/channel-sandbox';
import {
  MessagesEventsTopic,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  RetailEventsTopic,
} from '@mmp/contracts';
import { eventually } from '../support';
import { api, expectedSecondOrderMessage, orderPathEvents } from './order-events';
import { usePlatform } from './platform';

/**
 * The walking skeleton's path, all six services in one process on the in-process bus and real
 * Postgres: two orders -> profile -> second_order milestone -> journey -> rendered email sent.
 */
describe('the order path, in one process', () => {
  const platform = usePlatform();

  it('sends exactly the second-order email once two orders arrived', async () => {
    const customerId = 'c-inproc-1';
    const posted = await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    expect(posted).toEqual({ status: 202, body: { accepted: 3, duplicates: 0, rejected: [] } });

    const messages = await eventually(async () => {
      const res = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
      expect(res.body).toHaveLength(1);
      expect(res.body[0].status).toBe('sent');
      return res.body;
    });
    expect(messages[0]).toMatchObject(expectedSecondOrderMessage(customerId));
    expect(messages[0].messageId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Date.parse(messages[0].sentAt)).toBeGreaterThanOrEqual(Date.parse(messages[0].createdAt));

    const sent = sandboxOutbox.forCustomer(customerId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      to: `${customerId}@example.com`,
      subject: 'Thanks for your second order, Ann!',
      text: 'Your order 2 means a lot to us.',
      // Tracking is on by default: the open pixel follows the body (SPEC section 7).
      html: expect.stringMatching(
        /^<p>Your order 2 means a lot to us\.<\/p><img src="http:\/\/localhost:0\/t\/o\/[\w-]+\.[\w-]+" width="1" height="1" alt="" style="display:none">$/,
      ),
    });
    expect(sent[0]?.headers['List-Unsubscribe']).toMatch(/^<http:\/\/localhost:0\/u\/[\w-]+\.[\w-]+>$/);
    expect(sent[0]?.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');

    const profile = await api(platform.baseUrl, `/v1/customers/${customerId}`);
    expect(profile.body.attributes).toMatchObject({
      lifetimeOrders: 2,
      lifetimeValue: '170.00',
      currency: 'USD',
      eventCounts: { 'customer.registered': 1, 'order.placed': 2 },
    });
    const milestones = await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`);
    expect(milestones.body).toEqual([
      { key: 'second_order', occurrence: '2', reachedAt: expect.any(String) },
    ]);

    // Journeys publishes the entry, so analytics counts the entrant next to the send.
    await eventually(async () => {
      const analytics = await api(platform.baseUrl, '/v1/analytics/journeys/second_order_thanks');
      expect(analytics.body).toMatchObject({ entered: 1, holdout: 0, sent: 1 });
    });
  });

  it('sends nothing twice when every hop is redelivered', async () => {
    const customerId = 'c-inproc-2';
    const events = orderPathEvents(customerId);
    await api(platform.baseUrl, '/v1/events', { method: 'POST', body: { batch: events } });
    await eventually(async () => {
      expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    });
    await platform.bus.whenIdle();

    // The retailer retries over HTTP and Kafka, and every internal topic redelivers its messages.
    const again = await api(platform.baseUrl, '/v1/events', { method: 'POST', body: { batch: events } });
    expect(again.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
    await platform.bus.publishRaw(
      RetailEventsTopic.name,
      events.map((e) => ({ key: customerId, value: JSON.stringify(e) })),
    );
    for (const topic of [MilestonesReachedTopic.name, MessagesRequestedTopic.name]) {
      const mine = platform.bus.messagesOn(topic).filter((m) => m.key === customerId);
      expect(mine.length).toBeGreaterThan(0);
      await platform.bus.publishRaw(
        topic,
        mine.map((m) => ({ key: m.key, value: JSON.stringify(m.value), headers: m.headers })),
      );
    }
    await platform.bus.whenIdle();

    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    const messages = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
    expect(messages.body).toHaveLength(1);
    expect(messages.body[0]).toMatchObject(expectedSecondOrderMessage(customerId));
    const milestones = await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`);
    expect(milestones.body).toHaveLength(1);
    // Two customers so far (this one and the first test's): redelivery added no entrant and no send.
    const analytics = await api(platform.baseUrl, '/v1/analytics/journeys/second_order_thanks');
    expect(analytics.body).toMatchObject({ entered: 2, holdout: 0, sent: 2 });
  });

  it('shows an open and a click analytics recorded, and never moves a status back', async () => {
    const customerId = 'c-inproc-5';
    await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    const [sent] = await eventually(async () => {
      const res = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
      expect(res.body[0]?.status).toBe('sent');
      return res.body;
    });
    const event = (status: 'opened' | 'clicked' | 'delivered') => ({
      key: customerId,
      value: {
        schemaVersion: 1 as const,
        messageId: sent.messageId,
        customerId,
        journeyKey: sent.journeyKey,
        stepId: sent.stepId,
        milestoneKey: sent.milestoneKey,
        channel: 'email' as const,
        template: sent.template,
        variant: null,
        status,
        reason: null,
        occurredAt: new Date().toISOString(),
      },
    });
    await platform.bus.publish(MessagesEventsTopic, [event('opened')]);
    await platform.bus.whenIdle();
    expect((await api(platform.baseUrl, `/v1/customers/${customerId}/messages`)).body[0].status).toBe(
      'opened',
    );
    await platform.bus.publish(MessagesEventsTopic, [event('clicked'), event('delivered'), event('opened')]);
    await platform.bus.whenIdle();
    expect((await api(platform.baseUrl, `/v1/customers/${customerId}/messages`)).body[0].status).toBe(
      'clicked',
    );
  });

  it('records a message journeys suppressed, and calls no provider for it', async () => {
    const customerId = 'c-inproc-4';
    await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    await eventually(async () => {
      expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    });
    const [requested] = platform.bus
      .messagesOn(MessagesRequestedTopic.name)
      .filter((m) => m.key === customerId);
    const capped = {
      ...(requested?.value as object),
      messageId: 'msg_capped',
      stepId: 'capped',
      suppressedReason: 'frequency_cap',
    };
    await platform.bus.publish(MessagesRequestedTopic, [
      { key: customerId, value: MessagesRequestedTopic.schema.parse(capped) },
    ]);
    await platform.bus.whenIdle();

    const messages = await api(platform.baseUrl, `/v1/customers/${customerId}/messages`);
    expect(messages.body.find((m: { messageId: string }) => m.messageId === 'msg_capped')).toMatchObject({
      stepId: 'capped',
      status: 'suppressed',
      reason: 'frequency_cap',
      sentAt: null,
    });
    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
  });

  it('rejects the invalid neighbour and keeps the valid event', async () => {
    const posted = await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: {
        batch: [
          {
            eventId: 'bad-1',
            type: 'order.placed',
            occurredAt: new Date().toISOString(),
            customerId: 'c-inproc-3',
            properties: { orderId: 'o', total: 'ten', currency: 'USD' },
          },
          {
            eventId: 'good-1',
            type: 'product.viewed',
            occurredAt: new Date().toISOString(),
            customerId: 'c-inproc-3',
            properties: { sku: 'sku-1' },
          },
        ],
      },
    });
    expect(posted).toEqual({
      status: 202,
      body: {
        accepted: 1,
        duplicates: 0,
        rejected: [
          {
            index: 0,
            eventId: 'bad-1',
            errors: [
              { path: 'properties.total', message: 'must be a non-negative decimal string such as "129.90"' },
            ],
          },
        ],
      },
    });
  });
});
