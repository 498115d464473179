import { sandboxOutbox } from '@mmp/channel-sandbox';
import { CustomerEventsTopic, MilestonesReachedTopic, MessagesRequestedTopic } from '@mmp/contracts';
import { api, orderPathEvents } from './order-events';
import { usePlatform } from './platform';

/**
 * `policies.maxTriggerAgeHours` (48 in the shipped program), all six services in one process:
 * a historical import updates the profile and triggers nothing downstream, while the same
 * events arriving fresh send the second-order email (the control that shows the path works).
 */
describe('a historical import, in one process', () => {
  const platform = usePlatform();

  const keyed = (topic: string, customerId: string) =>
    platform.bus.messagesOn(topic).filter((m) => m.key === customerId);

  it('updates the profile from events older than maxTriggerAgeHours and reaches no milestone and sends nothing', async () => {
    const customerId = 'c-import-1';
    const threeDaysAgo = new Date(Date.now() - 72 * 3_600_000);
    const posted = await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId, threeDaysAgo) },
    });
    expect(posted).toEqual({ status: 202, body: { accepted: 3, duplicates: 0, rejected: [] } });
    await platform.bus.whenIdle();

    const profile = await api(platform.baseUrl, `/v1/customers/${customerId}`);
    expect(profile.body.attributes).toMatchObject({
      lifetimeOrders: 2,
      lifetimeValue: '170.00',
      eventCounts: { 'customer.registered': 1, 'order.placed': 2 },
    });
    expect(
      keyed(CustomerEventsTopic.name, customerId).map(
        (m) => (m.value as { triggerable: boolean }).triggerable,
      ),
    ).toEqual([false, false, false]);
    expect(keyed(MilestonesReachedTopic.name, customerId)).toEqual([]);
    expect(keyed(MessagesRequestedTopic.name, customerId)).toEqual([]);
    expect((await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`)).body).toEqual([]);
    expect((await api(platform.baseUrl, `/v1/customers/${customerId}/messages`)).body).toEqual([]);
    expect(sandboxOutbox.forCustomer(customerId)).toEqual([]);
  });

  it('sends the second-order email for the same events arriving fresh', async () => {
    const customerId = 'c-import-2';
    await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: { batch: orderPathEvents(customerId) },
    });
    await platform.bus.whenIdle();

    expect(keyed(MilestonesReachedTopic.name, customerId)).toHaveLength(1);
    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
  });
});
