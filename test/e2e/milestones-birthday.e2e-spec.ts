import { sandboxOutbox } from '@mmp/channel-sandbox';
import { MilestonesReachedTopic } from '@mmp/contracts';
import { isInHoldout } from '@mmp/journeys-domain';
import { DateTime } from 'luxon';
import { eventually } from '../support';
import { api } from './order-events';
import { usePlatform } from './platform';

/**
 * A birthday, all six services in one process with SANDBOX=true and the shipped program: the
 * customer registers with a birthday, the sandbox clock moves to 09:00 on it in their zone, and
 * the birthday milestone and the birthday_sequence journey's first email happen once.
 */
describe('a birthday in the sandbox, in one process', () => {
  const platform = usePlatform({ SANDBOX: 'true' });

  it('reaches the birthday at 09:00 local time and sends the birthday email exactly once', async () => {
    // A customer the birthday_sequence's 10% holdout does not take, so the email is due.
    const customerId = Array.from({ length: 50 }, (_, i) => `c-bday-${i}`).find(
      (id) => !isInHoldout(id, 'birthday_sequence', 10),
    );
    if (!customerId) throw new Error('no customer outside the holdout');
    const zone = 'Pacific/Auckland';
    const clock = await api(platform.baseUrl, '/v1/sandbox/clock');
    const now = DateTime.fromISO(clock.body.now, { zone });
    const birthday = now.plus({ days: 10 });
    const posted = await api(platform.baseUrl, '/v1/events', {
      method: 'POST',
      body: {
        eventId: `reg-${customerId}`,
        type: 'customer.registered',
        occurredAt: now.toUTC().toISO(),
        customerId,
        traits: {
          email: 'ann@example.com',
          firstName: 'Ann',
          timezone: zone,
          birthday: birthday.toFormat('--MM-dd'),
        },
      },
    });
    expect(posted.status).toBe(202);
    await platform.bus.whenIdle();

    const beforeNine = birthday.set({ hour: 8, minute: 59, second: 0, millisecond: 0 });
    expect(
      (
        await api(platform.baseUrl, '/v1/sandbox/clock', {
          method: 'POST',
          body: { now: beforeNine.toUTC().toISO() },
        })
      ).status,
    ).toBe(200);
    // Longer than a scheduler tick: had anything been due, it would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await platform.bus.whenIdle();
    expect((await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`)).body).toEqual([]);

    const atNine = birthday.set({ hour: 9, minute: 0, second: 30, millisecond: 0 });
    await api(platform.baseUrl, '/v1/sandbox/clock', {
      method: 'POST',
      body: { now: atNine.toUTC().toISO() },
    });
    const milestones = await eventually(async () => {
      const res = await api(platform.baseUrl, `/v1/customers/${customerId}/milestones`);
      expect(res.body).toHaveLength(1);
      return res.body;
    });
    expect(milestones).toEqual([
      { key: 'birthday', occurrence: String(birthday.year), reachedAt: expect.any(String) },
    ]);

    const sent = await eventually(async () => {
      const outbox = sandboxOutbox.forCustomer(customerId);
      expect(outbox).toHaveLength(1);
      return outbox;
    });
    expect(sent[0]).toMatchObject({
      to: 'ann@example.com',
      subject: 'Happy birthday, Ann!',
      text: 'Enjoy 20% off with BDAY20',
    });

    // Later ticks and another move of the clock within the day change nothing.
    await api(platform.baseUrl, '/v1/sandbox/clock', {
      method: 'POST',
      body: { now: atNine.plus({ hours: 1 }).toUTC().toISO() },
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await platform.bus.whenIdle();
    expect(sandboxOutbox.forCustomer(customerId)).toHaveLength(1);
    const reached = platform.bus
      .messagesOn(MilestonesReachedTopic.name)
      .map((m) => MilestonesReachedTopic.schema.parse(m.value))
      .filter((m) => m.customerId === customerId);
    expect(reached.map((m) => [m.milestoneKey, m.occurrence])).toEqual([['birthday', String(birthday.year)]]);
  });
});
