import { InMemoryBus, type OutgoingMessage } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import {
  CUSTOMER_ERASED_EVENT_TYPE,
  CustomerEventsTopic,
  erasureEventId,
  MilestonesReachedTopic,
  type CustomerEventV1,
  type MilestoneReachedV1,
  type Topic,
} from '@mmp/contracts';
import { occurrenceIdOf } from '@mmp/milestones-domain';
import { MilestoneScheduler, MilestonesModule } from '@mmp/milestones-service';
import { queryRows, runSql, serviceDatabaseToken } from '@mmp/persistence';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { INestApplication } from '@nestjs/common';
import { register } from 'prom-client';
import type { DataSource } from 'typeorm';
import { useTestDatabase } from '../support';

/**
 * The milestones service alone on real Postgres and the in-process bus, with the sandbox clock:
 * the time-based schedule shared by two instances, publish failures after commit, program
 * changes at run time, occurrences missed by more than the grace period, and events the service
 * handles only after the clock passed the firing they schedule (consumer lag).
 */

const PROGRAM = `
policies: { timezone: America/New_York, milestoneGracePeriod: 2d }
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
`;

const START = new Date('2031-05-01T12:00:00Z');
const ZONES = ['America/New_York', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Paris', undefined];

/** A bus whose next `failures` publishes to milestones.reached.v1 throw, as a broker outage would. */
class FlakyBus extends InMemoryBus {
  failures = 0;

  override async publish<T>(topic: Topic<T>, messages: readonly OutgoingMessage<T>[]): Promise<void> {
    if (topic.name === MilestonesReachedTopic.name && this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker unavailable');
    }
    await super.publish(topic, messages);
  }
}

interface Instance {
  app: INestApplication;
  bus: FlakyBus;
  clock: SandboxClock;
  program: ProgramStore;
  db: DataSource;
  scheduler: MilestoneScheduler;
}

function customerEvent(
  customerId: string,
  eventId: string,
  type: string,
  traits: Record<string, unknown>,
  orders = 0,
  at = START,
): CustomerEventV1 {
  return {
    schemaVersion: 1,
    eventId,
    type,
    occurredAt: at.toISOString(),
    receivedAt: at.toISOString(),
    customerId,
    anonymousId: null,
    properties: {},
    triggerable: true,
    profile: {
      customerId,
      traits,
      attributes: {
        lifetimeOrders: orders,
        lifetimeValue: '0.00',
        currency: null,
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: at.toISOString(),
        eventCounts: orders > 0 ? { 'order.placed': orders } : {},
      },
    },
  };
}

function reached(instance: Instance): MilestoneReachedV1[] {
  return instance.bus
    .messagesOn(MilestonesReachedTopic.name)
    .map((m) => MilestonesReachedTopic.schema.parse(m.value));
}

/** Instances of the milestones service on one test database, each stopped after its test (or before, by `stop`). */
function useMilestonesService(): {
  start: (now: Date, program?: string) => Promise<Instance>;
  stop: (instance: Instance) => Promise<void>;
} {
  const database = useTestDatabase();
  const started: Instance[] = [];

  afterEach(async () => {
    for (const instance of started.splice(0)) await instance.app.close();
  });

  const start = async (now: Date, program = PROGRAM): Promise<Instance> => {
    const bus = new FlakyBus();
    const clock = new SandboxClock();
    clock.moveTo(now);
    const programStore = new ProgramStore(parseProgram(program));
    const config = AppConfig.fromEnvironment({
      DATABASE_URL: database.url,
      PORT: '0',
      API_KEYS: 'test-key',
      SANDBOX: 'true',
      LOG_LEVEL: 'error',
    });
    const app = await startServices({
      name: 'milestones',
      services: [MilestonesModule],
      config,
      bus,
      clock,
      program: programStore,
    });
    const instance: Instance = {
      app,
      bus,
      clock,
      program: programStore,
      db: app.get<DataSource>(serviceDatabaseToken('milestones'), { strict: false }),
      scheduler: app.get(MilestoneScheduler, { strict: false }),
    };
    started.push(instance);
    return instance;
  };
  const stop = async (instance: Instance): Promise<void> => {
    started.splice(started.indexOf(instance), 1);
    await instance.app.close();
  };
  return { start, stop };
}

async function send(instance: Instance, events: readonly CustomerEventV1[]): Promise<void> {
  await instance.bus.publish(
    CustomerEventsTopic,
    events.map((value) => ({ key: value.customerId, value })),
  );
  await instance.bus.whenIdle();
}

describe('the milestones service on one database', () => {
  const { start, stop } = useMilestonesService();

  it('fires each birthday once when two instances share the schedule', async () => {
    const first = await start(START);
    const second = await start(START);
    const customers = Array.from({ length: 400 }, (_, i) => `c-twin-${i}`);
    await send(
      first,
      customers.map((id, i) =>
        customerEvent(id, `reg-${id}`, 'customer.registered', {
          birthday: '--06-01',
          timezone: ZONES[i % ZONES.length],
        }),
      ),
    );
    const scheduled = await queryRows<{ count: number }>(
      first.db,
      `SELECT count(*)::int AS count FROM milestones.schedule WHERE customer_id LIKE 'c-twin-%'`,
    );
    expect(scheduled).toEqual([{ count: 400 }]);

    // The day after: every zone's 09:00 on 1 June has passed, within the 2-day grace period.
    const dayAfter = new Date('2031-06-02T12:00:00Z');
    first.clock.moveTo(dayAfter);
    second.clock.moveTo(dayAfter);
    await Promise.all([first.scheduler.drainNow(), second.scheduler.drainNow(), first.scheduler.drainNow()]);

    const all = [...reached(first), ...reached(second)];
    expect(all).toHaveLength(400);
    expect(new Set(all.map((m) => m.occurrenceId)).size).toBe(400);
    expect(all.every((m) => m.milestoneKey === 'birthday' && m.occurrence === '2031')).toBe(true);
    expect(all.find((m) => m.customerId === 'c-twin-0')).toMatchObject({
      occurrenceId: occurrenceIdOf('birthday', 'c-twin-0', '2031'),
      causeEventId: null,
      profile: { customerId: 'c-twin-0', traits: { birthday: '--06-01' } },
    });
    // Each entry now waits for next year's birthday.
    const next = await queryRows<{ occurrence: string; count: number }>(
      first.db,
      `SELECT occurrence, count(*)::int AS count FROM milestones.schedule WHERE customer_id LIKE 'c-twin-%' GROUP BY occurrence`,
    );
    expect(next).toEqual([{ occurrence: '2032', count: 400 }]);
  });

  it('republishes an event-driven occurrence exactly once when its publish failed after commit', async () => {
    const instance = await start(START);
    instance.bus.failures = 1;
    await send(instance, [
      customerEvent('c-flaky', 'o-1', 'order.placed', {}, 1),
      customerEvent('c-flaky', 'o-2', 'order.placed', {}, 2),
    ]);
    // The bus redelivered the batch after the failed publish; the record was already committed.
    const messages = reached(instance);
    expect(messages.map((m) => [m.milestoneKey, m.occurrence, m.causeEventId])).toEqual([
      ['second_order', '2', 'o-2'],
    ]);
    // A later redelivery of the same events finds everything published: nothing more.
    await send(instance, [customerEvent('c-flaky', 'o-2', 'order.placed', {}, 2)]);
    expect(reached(instance)).toHaveLength(1);
  });

  it('fires a threshold crossing once when its batch comes again after a refund in it', async () => {
    const instance = await start(
      START,
      `
milestones:
  - { key: vip, kind: threshold, attribute: lifetimeValue, gte: 200, rearm: true }
`,
    );
    const withValue = (event: CustomerEventV1, lifetimeValue: string): CustomerEventV1 => ({
      ...event,
      profile: { ...event.profile, attributes: { ...event.profile.attributes, lifetimeValue } },
    });
    const batch = [
      withValue(customerEvent('c-vip', 'o-vip', 'order.placed', {}, 1), '250.00'),
      withValue(customerEvent('c-vip', 'r-vip', 'order.refunded', {}, 1), '150.00'),
    ];
    // The first delivery commits and its publish fails: the bus delivers the batch again, then
    // (as a consumer restarted from an older offset would) each event alone.
    instance.bus.failures = 1;
    await send(instance, batch);
    await send(instance, batch.slice(0, 1));
    await send(instance, batch);
    expect(reached(instance).map((m) => [m.milestoneKey, m.occurrence, m.causeEventId])).toEqual([
      ['vip', '1', 'o-vip'],
    ]);
    // The snapshot stayed at the refund: a new order crossing again is the second crossing.
    await send(instance, [withValue(customerEvent('c-vip', 'o-vip-2', 'order.placed', {}, 2), '210.00')]);
    expect(reached(instance).map((m) => [m.milestoneKey, m.occurrence, m.causeEventId])).toEqual([
      ['vip', '1', 'o-vip'],
      ['vip', '2', 'o-vip-2'],
    ]);
  });

  it('republishes a fired birthday once after the instance died between commit and publish', async () => {
    const doomed = await start(START);
    await send(doomed, [
      customerEvent('c-crash', 'reg-crash', 'customer.registered', { birthday: '--06-01' }),
    ]);
    doomed.bus.failures = 100;
    doomed.clock.moveTo(new Date('2031-06-01T13:00:30Z'));
    await doomed.scheduler.drainNow();
    expect(reached(doomed)).toEqual([]);
    await stop(doomed);

    const survivor = await start(new Date('2031-06-01T13:01:00Z'));
    // Within its publisher's lease nobody else republishes it.
    await survivor.scheduler.drainNow();
    expect(reached(survivor)).toEqual([]);
    // Once the lease ran out (wall time; moved here rather than waited for) the survivor takes over.
    await runSql(
      survivor.db,
      `UPDATE milestones.occurrences SET publish_after = now() - interval '1 second'`,
    );
    await survivor.scheduler.drainNow();
    await survivor.scheduler.drainNow();
    expect(reached(survivor).map((m) => [m.customerId, m.milestoneKey, m.occurrence])).toEqual([
      ['c-crash', 'birthday', '2031'],
    ]);
  });

  it('applies a milestone added later from now on, and stops one that was removed', async () => {
    const instance = await start(
      START,
      `
policies: { timezone: UTC }
milestones:
  - { key: second_order, kind: nth_event, event: order.placed, n: 2 }
`,
    );
    await send(instance, [
      customerEvent('c-past', 'reg-past', 'customer.registered', { birthday: '--04-15' }),
      customerEvent('c-soon', 'reg-soon', 'customer.registered', { birthday: '--05-02' }),
    ]);
    // A tick under this program drops the birthday schedule the earlier specs' program had.
    await instance.scheduler.drainNow();
    instance.program.replace(
      parseProgram(`
policies: { timezone: UTC }
milestones:
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
`),
    );
    await instance.scheduler.drainNow();
    const scheduled = await queryRows<{ customer_id: string; fire_at: Date }>(
      instance.db,
      `SELECT customer_id, fire_at FROM milestones.schedule WHERE customer_id IN ('c-past', 'c-soon') ORDER BY customer_id`,
    );
    // c-past's birthday this year was before the milestone existed: next year, not now.
    expect(scheduled.map((row) => [row.customer_id, row.fire_at.toISOString()])).toEqual([
      ['c-past', '2032-04-15T09:00:00.000Z'],
      ['c-soon', '2031-05-02T09:00:00.000Z'],
    ]);
    instance.clock.moveTo(new Date('2031-05-02T09:00:01Z'));
    await instance.scheduler.drainNow();
    expect(reached(instance).map((m) => m.customerId)).toEqual(['c-soon']);

    instance.program.replace(parseProgram(`policies: { timezone: UTC }`));
    await instance.scheduler.drainNow();
    const left = await queryRows<{ count: number }>(
      instance.db,
      `SELECT count(*)::int AS count FROM milestones.schedule`,
    );
    expect(left).toEqual([{ count: 0 }]);
  });

  it('skips and counts an occurrence missed by more than the grace period', async () => {
    const instance = await start(START);
    await send(instance, [
      customerEvent('c-late', 'reg-late', 'customer.registered', { birthday: '--06-01' }),
    ]);
    const before = await missedCount();
    // The sandbox clock jumps three days past the birthday: 2 days of grace are not enough.
    instance.clock.moveTo(new Date('2031-06-04T13:00:00Z'));
    await instance.scheduler.drainNow();
    expect(reached(instance)).toEqual([]);
    expect((await missedCount()) - before).toBe(1);
    const next = await queryRows<{ occurrence: string }>(
      instance.db,
      `SELECT occurrence FROM milestones.schedule WHERE customer_id = 'c-late'`,
    );
    expect(next).toEqual([{ occurrence: '2032' }]);
  });

  it('reschedules when the birthday or the timezone changes', async () => {
    const instance = await start(START);
    await send(instance, [
      customerEvent('c-move', 'reg-move', 'customer.registered', { birthday: '--06-01' }),
    ]);
    await send(instance, [
      customerEvent('c-move', 'upd-move', 'customer.updated', {
        birthday: '--06-03',
        timezone: 'Asia/Tokyo',
      }),
    ]);
    const scheduled = await queryRows<{ fire_at: Date }>(
      instance.db,
      `SELECT fire_at FROM milestones.schedule WHERE customer_id = 'c-move'`,
    );
    expect(scheduled.map((row) => row.fire_at.toISOString())).toEqual(['2031-06-03T00:00:00.000Z']);
  });

  it('keeps no trait of an erased customer and schedules nothing more for them', async () => {
    const instance = await start(START);
    await send(instance, [
      customerEvent('c-erased', 'o-e1', 'order.placed', { birthday: '--06-01', email: 'e@example.com' }, 1),
      customerEvent('c-erased', 'o-e2', 'order.placed', { birthday: '--06-01', email: 'e@example.com' }, 2),
    ]);
    await send(instance, [
      {
        ...customerEvent('c-erased', erasureEventId('c-erased'), CUSTOMER_ERASED_EVENT_TYPE, {}, 2),
        triggerable: false,
      },
    ]);
    const kept = await queryRows<{ traits: unknown }>(
      instance.db,
      `SELECT profile->'traits' AS traits FROM milestones.occurrences WHERE customer_id = 'c-erased'
       UNION ALL SELECT profile->'traits' FROM milestones.customer_snapshots WHERE customer_id = 'c-erased'`,
    );
    expect(kept).toEqual([{ traits: {} }, { traits: {} }]);
    const scheduled = await queryRows<{ count: number }>(
      instance.db,
      `SELECT count(*)::int AS count FROM milestones.schedule WHERE customer_id = 'c-erased'`,
    );
    expect(scheduled).toEqual([{ count: 0 }]);
  });
});

describe('a registration the milestones service handles only after its birthday came due', () => {
  // The case: registered at 2029-06-09T12:00Z with the birthday on 10 June in New York
  // (09:00 there is 13:00Z), the default 6 h of grace. Lag is made, not waited for: the clock
  // moves before the registration reaches the service, as a lagging consumer would see it.
  const { start } = useMilestonesService();
  const program = `
policies: { timezone: America/New_York }
milestones:
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
`;
  const registeredAt = new Date('2029-06-09T12:00:00Z');
  const register = (customerId: string) =>
    customerEvent(
      customerId,
      `reg-${customerId}`,
      'customer.registered',
      { birthday: '--06-10' },
      0,
      registeredAt,
    );

  async function startAtRegistration(): Promise<Instance> {
    const instance = await start(registeredAt, program);
    // The birthday milestone is in the program from the start: it covers everyone from then on.
    await instance.scheduler.drainNow();
    return instance;
  }

  async function nextOccurrence(instance: Instance, customerId: string): Promise<unknown> {
    return queryRows<{ occurrence: string; fire_at: Date }>(
      instance.db,
      `SELECT occurrence, fire_at FROM milestones.schedule WHERE customer_id = $1`,
      [customerId],
    );
  }

  it('fires the birthday five minutes late, as it fires for a registration handled at once', async () => {
    const instance = await startAtRegistration();
    await send(instance, [register('c-lag-prompt')]);
    instance.clock.moveTo(new Date('2029-06-10T13:05:00Z'));
    await send(instance, [register('c-lag-late')]);
    await instance.scheduler.drainNow();

    expect(
      reached(instance)
        .map((m) => [m.customerId, m.milestoneKey, m.occurrence, m.occurrenceId])
        .sort(),
    ).toEqual([
      ['c-lag-late', 'birthday', '2029', occurrenceIdOf('birthday', 'c-lag-late', '2029')],
      ['c-lag-prompt', 'birthday', '2029', occurrenceIdOf('birthday', 'c-lag-prompt', '2029')],
    ]);
    expect(await nextOccurrence(instance, 'c-lag-late')).toEqual([
      { occurrence: '2030', fire_at: new Date('2030-06-10T13:00:00Z') },
    ]);
    // Delivered again (a consumer that crashed before committing), it fires nothing more.
    await send(instance, [register('c-lag-late')]);
    await instance.scheduler.drainNow();
    expect(reached(instance)).toHaveLength(2);
  });

  it('counts the birthday missed, on /metrics, when the registration is handled beyond the grace period', async () => {
    const instance = await startAtRegistration();
    const metricsUrl = `${await loopbackUrlOf(instance.app)}/metrics`;
    const before = missedOnMetrics(await (await fetch(metricsUrl)).text());
    // 13:00Z plus 6 h of grace is 19:00Z; the registration reaches the service at 19:05Z.
    instance.clock.moveTo(new Date('2029-06-10T19:05:00Z'));
    await send(instance, [register('c-lag-beyond')]);
    await instance.scheduler.drainNow();

    expect(reached(instance)).toEqual([]);
    expect(missedOnMetrics(await (await fetch(metricsUrl)).text()) - before).toBe(1);
    expect(await nextOccurrence(instance, 'c-lag-beyond')).toEqual([
      { occurrence: '2030', fire_at: new Date('2030-06-10T13:00:00Z') },
    ]);
    // Delivered again, it is neither sent nor counted a second time.
    await send(instance, [register('c-lag-beyond')]);
    await instance.scheduler.drainNow();
    expect(reached(instance)).toEqual([]);
    expect(missedOnMetrics(await (await fetch(metricsUrl)).text()) - before).toBe(1);
  });
});

/** `milestones_missed_total{milestone="birthday"}` in a Prometheus scrape (0 before its first count). */
function missedOnMetrics(scrape: string): number {
  const line = scrape.split('\n').find((l) => l.startsWith('milestones_missed_total{milestone="birthday"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function missedCount(): Promise<number> {
  const metric = await register.getSingleMetric('milestones_missed_total')?.get();
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}
