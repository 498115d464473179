import { readFileSync } from 'node:fs';
import { CustomerEventsTopic, RetailEventsTopic } from '@mmp/contracts';
import { eventually } from '../support';
import { api } from './order-events';
import { usePlatform } from './platform';

/**
 * Issue 13: the same events give the same milestones and messages however they are batched.
 * `vip_gold` (lifetimeValue >= 200, rearm) fires once on an order of 250.00; a refund of 100.00
 * then an order of 60.00 take the value 250 -> 150 -> 210, which crosses the threshold again.
 * That must fire occurrence 2 whether the two events come in two requests, in one HTTP batch
 * or in one Kafka fetch: each event carries the profile right after it, never the batch's.
 */
describe('a threshold left and crossed again within one batch', () => {
  const platform = usePlatform();
  const MINUTE = 60_000;
  const ago = (minutes: number) => new Date(Date.now() - minutes * MINUTE).toISOString();

  // The shipped program, with a journey that sends on vip_gold and without second_order (the
  // 60.00 order is the second one: its email would compete for the day's one message).
  const shipped = readFileSync('program/program.yaml', 'utf8');
  const secondOrder = [
    '  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }\n',
    '  - key: second_order_thanks\n    trigger: second_order\n    priority: 5\n    steps:\n      - { id: thank, send: { template: second_order_email } }\n',
  ];
  const program = secondOrder
    .reduce((source, part) => {
      if (!source.includes(part)) throw new Error(`the shipped program no longer has: ${part}`);
      return source.replace(part, '');
    }, shipped)
    .replace(
      'journeys:\n',
      'journeys:\n  - key: vip_welcome\n    trigger: vip_gold\n    steps:\n      - { id: congratulate, send: { template: vip_email } }\n\n',
    )
    .replace(
      'templates:\n',
      "templates:\n  vip_email: { channel: email, subject: 'Gold, {{customer.firstName}}!', text: 'You are gold.' }\n\n",
    );

  beforeAll(async () => {
    const response = await fetch(`${platform.baseUrl}/v1/program`, {
      method: 'PUT',
      headers: { authorization: 'Bearer test-key', 'content-type': 'application/yaml' },
      body: program,
    });
    expect(response.status).toBe(200);
  });

  const registered = (customerId: string) => ({
    eventId: `${customerId}-reg`,
    type: 'customer.registered',
    occurredAt: ago(30),
    customerId,
    traits: { firstName: 'Ann', email: `${customerId}@example.com` },
  });
  const placed = (customerId: string, orderId: string, total: string, minutesAgo: number) => ({
    eventId: `${customerId}-${orderId}`,
    type: 'order.placed',
    occurredAt: ago(minutesAgo),
    customerId,
    properties: { orderId, total, currency: 'USD' },
  });
  const refunded = (customerId: string) => ({
    eventId: `${customerId}-refund`,
    type: 'order.refunded',
    occurredAt: ago(5),
    customerId,
    properties: { orderId: 'o-1', amount: '100.00', currency: 'USD' },
  });
  const post = (batch: unknown[]) => api(platform.baseUrl, '/v1/events', { method: 'POST', body: { batch } });
  const milestonesOf = async (customerId: string) =>
    (await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`)).body as {
      key: string;
      occurrence: string;
    }[];
  /** The decisions, without what differs by customer (ids, times, the address). */
  const decisionsOf = async (customerId: string) =>
    ((await api(platform.baseUrl, `/v1/customers/${customerId}/messages`)).body as Record<string, unknown>[])
      .map(({ journeyKey, milestoneKey, template, subject, status, reason }) => ({
        journeyKey,
        milestoneKey,
        template,
        subject,
        status,
        reason,
      }))
      .sort((a, b) => String(a.status).localeCompare(String(b.status)));
  const lifetimeValues = (customerId: string) =>
    platform.bus
      .messagesOn(CustomerEventsTopic.name)
      .filter((message) => message.key === customerId)
      .map((message) => {
        const event = CustomerEventsTopic.schema.parse(message.value);
        return [event.type, event.profile.attributes.lifetimeValue];
      });

  /** Registration and the first order, then vip_gold occurrence 1 reached. */
  async function goldOnce(customerId: string) {
    expect((await post([registered(customerId), placed(customerId, 'o-1', '250.00', 10)])).status).toBe(202);
    await eventually(async () => {
      expect(await milestonesOf(customerId)).toMatchObject([{ key: 'vip_gold', occurrence: '1' }]);
    });
    await platform.bus.whenIdle();
  }

  async function goldTwice(customerId: string) {
    return eventually(
      async () => {
        const milestones = await milestonesOf(customerId);
        expect(milestones.map((m) => [m.key, m.occurrence]).sort()).toEqual([
          ['vip_gold', '1'],
          ['vip_gold', '2'],
        ]);
        const decisions = await decisionsOf(customerId);
        expect(decisions).toHaveLength(2);
        return decisions;
      },
      { timeoutMs: 20_000 },
    );
  }

  const congratulation = {
    journeyKey: 'vip_welcome',
    milestoneKey: 'vip_gold',
    template: 'vip_email',
    subject: 'Gold, Ann!',
  };
  // The second congratulation is decided, not lost: the shipped cap allows one message a day.
  const twoCongratulations = [
    { ...congratulation, status: 'sent', reason: null },
    // Not rendered, so without a subject.
    { ...congratulation, subject: null, status: 'suppressed', reason: 'frequency_cap' },
  ];

  it('fires occurrence 2 and decides the same messages for one HTTP batch as for two requests', async () => {
    await goldOnce('c-vip-split');
    await post([refunded('c-vip-split')]);
    await post([placed('c-vip-split', 'o-2', '60.00', 1)]);
    const split = await goldTwice('c-vip-split');

    await goldOnce('c-vip-batch');
    expect(await post([refunded('c-vip-batch'), placed('c-vip-batch', 'o-2', '60.00', 1)])).toEqual({
      status: 202,
      body: { accepted: 2, duplicates: 0, rejected: [] },
    });
    const batched = await goldTwice('c-vip-batch');

    expect(split).toEqual(twoCongratulations);
    expect(batched).toEqual(split);
    for (const customerId of ['c-vip-split', 'c-vip-batch']) {
      expect(lifetimeValues(customerId)).toEqual([
        ['customer.registered', '0.00'],
        ['order.placed', '250.00'],
        ['order.refunded', '150.00'],
        ['order.placed', '210.00'],
      ]);
    }
  });

  it('fires it for the two records in one Kafka fetch of retail.events.v1 too', async () => {
    const customerId = 'c-vip-kafka';
    await goldOnce(customerId);
    await platform.bus.publishRaw(
      RetailEventsTopic.name,
      [refunded(customerId), placed(customerId, 'o-2', '60.00', 1)].map((event) => ({
        key: customerId,
        value: JSON.stringify(event),
      })),
    );
    expect(await goldTwice(customerId)).toEqual(twoCongratulations);
    expect(lifetimeValues(customerId).slice(-2)).toEqual([
      ['order.refunded', '150.00'],
      ['order.placed', '210.00'],
    ]);
  });
});
