import { InMemoryBus } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import {
  CustomerEventsTopic,
  MessagesRequestedTopic,
  MilestonesReachedTopic,
  type CustomerEventV1,
  type MessageRequestedV1,
  type MilestoneReachedV1,
} from '@mmp/contracts';
import { enterJourney, goalWindowOf, isInHoldout } from '@mmp/journeys-domain';
import { queryRows, serviceDatabaseToken } from '@mmp/persistence';
import { journeyVersion, parseProgram, ProgramStore } from '@mmp/program';
import { startServices } from '@mmp/server';
import {
  FireDueTimersUsecase,
  InstanceStore,
  JourneysModule,
  JourneyVersionStore,
  SendLedgerStore,
  TimerScheduler,
} from '@mmp/journeys-service';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { eventually, useTestDatabase } from '../support';

/**
 * The journeys service alone on real Postgres and the in-process bus, with the sandbox clock:
 * durable waits across a restart, two schedulers sharing one database, stable holdouts at scale.
 * Milestones are published on milestones.reached.v1 as the milestones service would.
 */

const PROGRAM = `
policies: { timezone: America/New_York }
milestones:
  - { key: moment, kind: nth_event, event: order.placed, n: 2 }
  - { key: split_moment, kind: nth_event, event: order.placed, n: 3 }
  - { key: watch_moment, kind: nth_event, event: order.placed, n: 4 }
journeys:
  - key: watch
    trigger: watch_moment
    goal: { event: order.placed, withinDays: 3 }
    exitOn: [cart.abandoned]
    steps:
      - { id: hello, send: { template: hello } }
      - { id: pause, wait: { hours: 1 } }
      - { id: check, branch: { if: { eventSinceEntry: product.viewed }, then: viewed, else: exit } }
      - { id: viewed, send: { template: again } }
  - key: follow_up
    trigger: moment
    steps:
      - { id: hello, send: { template: hello } }
      - { id: pause, wait: { days: 1 } }
      - { id: again, send: { template: again } }
  - key: split
    trigger: split_moment
    holdoutPercent: 10
    steps:
      - { id: only, send: { template: hello } }
templates:
  hello: { channel: email, subject: 'Hello', text: 'Hello' }
  again: { channel: email, subject: 'Again', text: 'Again' }
`;

const START = new Date('2030-03-15T14:00:00Z');

function reached(customerId: string, milestoneKey: string, occurrence: string, at: Date): MilestoneReachedV1 {
  return {
    schemaVersion: 1,
    occurrenceId: `occ-${milestoneKey}-${customerId}-${occurrence}`,
    milestoneKey,
    customerId,
    occurrence,
    reachedAt: at.toISOString(),
    context: {},
    causeEventId: null,
    profile: {
      customerId,
      traits: { email: `${customerId}@example.com`, timezone: 'America/New_York' },
      attributes: {
        lifetimeOrders: 2,
        lifetimeValue: '20.00',
        currency: 'USD',
        firstOrderAt: null,
        lastOrderAt: null,
        registeredAt: null,
        eventCounts: {},
      },
    },
  };
}

/** A customer event as ingestion publishes it on customer.events.v1. */
function happened(
  customerId: string,
  eventId: string,
  type: string,
  at: Date,
  receivedAt: Date,
): CustomerEventV1 {
  const { profile } = reached(customerId, 'none', '0', at);
  return {
    schemaVersion: 1,
    eventId,
    type,
    occurredAt: at.toISOString(),
    receivedAt: receivedAt.toISOString(),
    customerId,
    anonymousId: null,
    properties: {},
    triggerable: true,
    profile,
  };
}

interface RunningJourneys {
  app: INestApplication;
  bus: InMemoryBus;
  clock: SandboxClock;
}

async function startJourneys(databaseUrl: string, now: Date): Promise<RunningJourneys> {
  // Every request of the run is read back from the bus (10,000 customers in one test): keep them all.
  const bus = new InMemoryBus({ retainConsumed: Infinity });
  const clock = new SandboxClock();
  clock.moveTo(now);
  const config = AppConfig.fromEnvironment({
    DATABASE_URL: databaseUrl,
    PORT: '0',
    API_KEYS: 'test-key',
    SANDBOX: 'true',
    LOG_LEVEL: 'warn',
  });
  const app = await startServices({
    name: 'journeys',
    services: [JourneysModule],
    config,
    bus,
    clock,
    program: new ProgramStore(parseProgram(PROGRAM)),
  });
  return { app, bus, clock };
}

function requested(bus: InMemoryBus, stepId?: string): MessageRequestedV1[] {
  return bus
    .messagesOn(MessagesRequestedTopic.name)
    .map((m) => MessagesRequestedTopic.schema.parse(m.value))
    .filter((m) => stepId === undefined || m.stepId === stepId);
}

async function enter(running: RunningJourneys, messages: readonly MilestoneReachedV1[]): Promise<void> {
  await running.bus.publish(
    MilestonesReachedTopic,
    messages.map((value) => ({ key: value.customerId, value })),
  );
  await running.bus.whenIdle();
}

describe('the journeys service on one database', () => {
  const database = useTestDatabase();
  const started: INestApplication[] = [];

  afterEach(async () => {
    for (const app of started.splice(0)) await app.close();
  });

  async function start(now: Date): Promise<RunningJourneys> {
    const running = await startJourneys(database.url, now);
    started.push(running.app);
    return running;
  }

  it('sends the follow-up once when the service restarts during a wait', async () => {
    const first = await start(START);
    await enter(first, [reached('c-restart', 'moment', '1', START)]);
    expect(requested(first.bus).map((m) => m.stepId)).toEqual(['hello']);
    await first.app.close();
    started.splice(0);

    // Back a day and a minute later on the same database, with a fresh bus and clock.
    const later = new Date(START.getTime() + 86_400_000 + 60_000);
    const second = await start(later);
    await second.app.get(TimerScheduler).drainNow();
    const followUps = requested(second.bus, 'again');
    expect(followUps).toHaveLength(1);
    expect(followUps[0]).toMatchObject({
      customerId: 'c-restart',
      journeyKey: 'follow_up',
      template: 'again',
    });
    expect(requested(second.bus, 'hello')).toEqual([]);

    second.clock.moveTo(new Date(later.getTime() + 3 * 86_400_000));
    await second.app.get(TimerScheduler).drainNow();
    await second.bus.whenIdle();
    expect(requested(second.bus)).toHaveLength(1);
  });

  it('publishes a send a crash stranded between its commit and its publish, once', async () => {
    const at = new Date(START.getTime() + 5 * 86_400_000);
    const first = await start(at);
    await enter(first, [reached('c-stranded', 'moment', '1', at)]);
    // As if the process died after the commit, before the publish was marked.
    const db = first.app.get<DataSource>(serviceDatabaseToken('journeys'));
    const [stranded] = await queryRows<{ message_id: string }>(
      db,
      `UPDATE journeys.outbox o SET published_at = NULL FROM journeys.instances i
        WHERE i.instance_id = o.instance_id AND i.customer_id = 'c-stranded' RETURNING o.message_id`,
    );
    await first.app.close();
    started.splice(0);

    const second = await start(new Date(at.getTime() + 60_000));
    await second.app.get(TimerScheduler).drainNow();
    expect(requested(second.bus).map((m) => [m.customerId, m.stepId, m.messageId])).toEqual([
      ['c-stranded', 'hello', stranded?.message_id],
    ]);
    await second.app.get(TimerScheduler).drainNow();
    expect(requested(second.bus)).toHaveLength(1);

    // And the journey carries on from there: its wait ends and the follow-up goes out once.
    second.clock.moveTo(new Date(at.getTime() + 86_400_000 + 120_000));
    await second.app.get(TimerScheduler).drainNow();
    expect(requested(second.bus).map((m) => [m.customerId, m.stepId])).toEqual([
      ['c-stranded', 'hello'],
      ['c-stranded', 'again'],
    ]);
  });

  it('fires every due timer exactly once with two schedulers claiming at the same time', async () => {
    const customers = Array.from({ length: 600 }, (_, i) => `c-pair-${i}`);
    const at = new Date(START.getTime() + 10 * 86_400_000);
    const a = await start(at);
    const b = await start(at);
    await enter(
      a,
      customers.map((c) => reached(c, 'moment', '1', at)),
    );
    expect(requested(a.bus, 'hello')).toHaveLength(600);

    const due = new Date(at.getTime() + 86_400_000 + 60_000);
    // The schedulers stand aside so that the claims below are all there is: four small claim
    // loops per instance, all at once, racing for the same 600 rows.
    await a.app.get(TimerScheduler).beforeApplicationShutdown();
    await b.app.get(TimerScheduler).beforeApplicationShutdown();
    const db = a.app.get<DataSource>(serviceDatabaseToken('journeys'));
    // Earlier tests on this database may have left a wait due by then too: count them all.
    const [{ due: dueTimers } = { due: 0 }] = await queryRows<{ due: number }>(
      db,
      `SELECT count(*)::int AS due FROM journeys.instances WHERE status = 'waiting' AND wake_at <= $1`,
      [due],
    );
    expect(dueTimers).toBeGreaterThanOrEqual(600);
    a.clock.moveTo(due);
    b.clock.moveTo(due);
    const drain = async (running: RunningJourneys): Promise<number> => {
      const fire = running.app.get(FireDueTimersUsecase);
      let total = 0;
      for (let fired = await fire.fireOnce(10); fired > 0; fired = await fire.fireOnce(10)) total += fired;
      return total;
    };
    const counts = await Promise.all([a, a, a, a, b, b, b, b].map(drain));
    const byA = counts.slice(0, 4).reduce((x, y) => x + y, 0);
    const byB = counts.slice(4).reduce((x, y) => x + y, 0);

    // Every due timer claimed once in all (a second claim would count twice here), by both instances.
    expect(byA + byB).toBe(dueTimers);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    const followUps = [...requested(a.bus, 'again'), ...requested(b.bus, 'again')];
    expect(followUps).toHaveLength(dueTimers);
    expect(new Set(followUps.map((m) => m.messageId)).size).toBe(dueTimers);
    const mine = followUps.filter((m) => m.customerId.startsWith('c-pair-'));
    expect(mine).toHaveLength(600);
    expect(new Set(mine.map((m) => m.customerId))).toEqual(new Set(customers));
    const states = await queryRows<{ status: string; count: number }>(
      db,
      `SELECT status, count(*)::int AS count FROM journeys.instances WHERE journey_key = 'follow_up'
          AND customer_id LIKE 'c-pair-%' GROUP BY status`,
    );
    expect(states).toEqual([{ status: 'completed', count: 600 }]);
  });

  describe('what the customer did since entry, whichever topic reaches journeys first', () => {
    // The milestone was reached at T; its message comes 25 minutes late (milestones is one hop
    // longer than the customer events, and lags), after events that happened after T.
    const T = new Date(START.getTime() + 30 * 86_400_000);
    const MINUTE = 60_000;
    const at = (minutes: number) => new Date(T.getTime() + minutes * MINUTE);

    async function instanceOf(running: RunningJourneys, customerId: string) {
      const db = running.app.get<DataSource>(serviceDatabaseToken('journeys'));
      const [row] = await queryRows<{
        status: string;
        exit_reason: string | null;
        entered_at: Date;
        goal_reached_at: Date | null;
        wake_at: Date | null;
      }>(
        db,
        `SELECT status, exit_reason, entered_at, goal_reached_at, wake_at FROM journeys.instances
          WHERE journey_key = 'watch' AND customer_id = $1`,
        [customerId],
      );
      return row;
    }

    async function lateMilestoneAfter(customerId: string, events: readonly [string, number][]) {
      const running = await start(at(25));
      await running.bus.publish(
        CustomerEventsTopic,
        events.map(([type, minutes], i) => ({
          key: customerId,
          value: happened(customerId, `${customerId}-e${i}`, type, at(minutes), at(minutes + 1)),
        })),
      );
      await running.bus.whenIdle();
      // The order that caused the milestone, at T itself: never "since entry", nor a goal.
      await running.bus.publish(CustomerEventsTopic, [
        { key: customerId, value: happened(customerId, `${customerId}-cause`, 'order.placed', T, at(0)) },
      ]);
      await enter(running, [
        { ...reached(customerId, 'watch_moment', '1', T), causeEventId: `${customerId}-cause` },
      ]);
      return running;
    }

    it('enters at reachedAt and counts events that arrived first for the goal and the branch', async () => {
      const running = await lateMilestoneAfter('c-early', [
        ['product.viewed', 10],
        ['order.placed', 20],
      ]);
      expect(await instanceOf(running, 'c-early')).toEqual({
        status: 'waiting',
        exit_reason: null,
        entered_at: T,
        goal_reached_at: at(20),
        wake_at: at(60),
      });
      expect(requested(running.bus).map((m) => m.stepId)).toEqual(['hello']);
      running.clock.moveTo(at(61));
      await running.app.get(TimerScheduler).drainNow();
      await running.bus.whenIdle();
      expect(requested(running.bus).map((m) => m.stepId)).toEqual(['hello', 'viewed']);
      expect(await instanceOf(running, 'c-early')).toMatchObject({ status: 'completed' });
    });

    it('sends the entry step, then exits on an exitOn event that arrived before the milestone', async () => {
      const running = await lateMilestoneAfter('c-early-exit', [['cart.abandoned', 10]]);
      expect(requested(running.bus).map((m) => m.stepId)).toEqual(['hello']);
      expect(await instanceOf(running, 'c-early-exit')).toMatchObject({
        status: 'exited',
        exit_reason: 'exit_on:cart.abandoned',
        goal_reached_at: null,
        wake_at: null,
      });
    });

    it('applies events that commit while an entry of the same customer is committing', async () => {
      const running = await start(at(25));
      const store = running.app.get(InstanceStore);
      const ledger = running.app.get(SendLedgerStore);
      const versions = running.app.get(JourneyVersionStore);
      const db = running.app.get<DataSource>(serviceDatabaseToken('journeys'));
      const journey = parseProgram(PROGRAM).journeys.find((j) => j.key === 'watch');
      if (!journey) throw new Error('the program has no watch journey');
      const version = journeyVersion(journey);
      const milestone = reached('c-race', 'watch_moment', '1', T);
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted = (): void => undefined;
      const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
      // An entry half way: the customer locked, its instance inserted, not committed.
      const entry = store.transaction(async (tx) => {
        await ledger.lockCustomers(tx, ['c-race']);
        await versions.saveVersions(tx, [{ key: 'watch', version, definition: journey }], T);
        await store.insertInstances(
          tx,
          [
            {
              state: enterJourney(journey, milestone, T),
              goal: goalWindowOf(journey, T, 'America/New_York'),
              causeEventId: null,
              journeyVersion: version,
              milestone: { key: 'watch_moment', occurrence: '1' },
              profile: milestone.profile,
            },
          ],
          T,
        );
        inserted();
        await held;
      });
      await insertedYet;
      const tracked = running.bus
        .publish(CustomerEventsTopic, [
          { key: 'c-race', value: happened('c-race', 'c-race-order', 'order.placed', at(5), at(24)) },
          { key: 'c-race', value: happened('c-race', 'c-race-cart', 'cart.abandoned', at(6), at(24)) },
        ])
        .then(() => running.bus.whenIdle());
      // The events wait for the entry (or, without the customer lock, would miss its instance).
      let done = false;
      void tracked.then(() => (done = true));
      await eventually(async () => {
        const [waiting] = await queryRows<{ waiting: number }>(
          db,
          `SELECT count(*)::int AS waiting FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        );
        expect(done || (waiting?.waiting ?? 0) > 0).toBe(true);
      });
      release();
      await entry;
      await tracked;
      expect(await instanceOf(running, 'c-race')).toMatchObject({
        status: 'exited',
        exit_reason: 'exit_on:cart.abandoned',
        goal_reached_at: at(5),
      });
    });

    it('does not count an event from before the entry arriving after it; a late goal event moves the goal back', async () => {
      const running = await lateMilestoneAfter('c-before', []);
      await running.bus.publish(CustomerEventsTopic, [
        { key: 'c-before', value: happened('c-before', 'c-before-late', 'cart.abandoned', at(-5), at(26)) },
        { key: 'c-before', value: happened('c-before', 'c-before-view', 'product.viewed', at(-4), at(26)) },
      ]);
      await running.bus.whenIdle();
      expect(await instanceOf(running, 'c-before')).toMatchObject({
        status: 'waiting',
        goal_reached_at: null,
      });
      // Two goal events, the earlier one arriving last: the goal was reached at the earlier.
      await running.bus.publish(CustomerEventsTopic, [
        { key: 'c-before', value: happened('c-before', 'c-before-o2', 'order.placed', at(30), at(31)) },
      ]);
      await running.bus.whenIdle();
      await running.bus.publish(CustomerEventsTopic, [
        { key: 'c-before', value: happened('c-before', 'c-before-o1', 'order.placed', at(15), at(32)) },
      ]);
      await running.bus.whenIdle();
      expect(await instanceOf(running, 'c-before')).toMatchObject({ goal_reached_at: at(15) });
      running.clock.moveTo(at(61));
      await running.app.get(TimerScheduler).drainNow();
      await running.bus.whenIdle();
      expect(requested(running.bus).map((m) => m.stepId)).toEqual(['hello']);
      expect(await instanceOf(running, 'c-before')).toMatchObject({
        status: 'exited',
        exit_reason: 'branch:check',
      });
    });
  });

  it('prunes the kept events no instance can need: older than the grace period, before any live entry', async () => {
    const at = new Date(START.getTime() + 40 * 86_400_000);
    const hoursAgo = (hours: number) => new Date(at.getTime() - hours * 3_600_000);
    const running = await start(at);
    // Live until tomorrow: entered ten hours ago, waiting a day.
    await enter(running, [reached('c-keep', 'moment', '1', hoursAgo(10))]);
    await running.app.get(TimerScheduler).beforeApplicationShutdown();
    const kept = [
      happened('c-keep', 'keep-after-entry', 'product.viewed', hoursAgo(9), hoursAgo(9)),
      happened('c-fresh', 'fresh', 'product.viewed', hoursAgo(1), hoursAgo(1)),
    ];
    const pruned = [
      happened('c-keep', 'keep-before-entry', 'product.viewed', hoursAgo(11), hoursAgo(11)),
      happened('c-gone', 'gone', 'product.viewed', hoursAgo(9), hoursAgo(9)),
    ];
    await running.bus.publish(
      CustomerEventsTopic,
      [...kept, ...pruned].map((value) => ({ key: value.customerId, value })),
    );
    await running.bus.whenIdle();
    // Past the once-a-minute throttle, whatever the scheduler did before it stood aside.
    running.clock.moveTo(new Date(at.getTime() + 2 * 60_000));
    const prune = running.app.get(FireDueTimersUsecase);
    // Earlier tests on this database leave old events of their own: at least these two go.
    expect(await prune.pruneEventHistory()).toBeGreaterThanOrEqual(2);
    const db = running.app.get<DataSource>(serviceDatabaseToken('journeys'));
    const left = async () =>
      (
        await queryRows<{ event_id: string }>(
          db,
          `SELECT event_id FROM journeys.customer_events WHERE customer_id IN ('c-keep', 'c-fresh', 'c-gone')
            ORDER BY event_id`,
        )
      ).map((row) => row.event_id);
    expect(await left()).toEqual(['fresh', 'keep-after-entry']);
    // Once a minute at most; and the next round leaves what instances still need.
    expect(await prune.pruneEventHistory()).toBe(0);
    running.clock.moveTo(new Date(at.getTime() + 4 * 60_000));
    expect(await prune.pruneEventHistory()).toBe(0);
    expect(await left()).toEqual(['fresh', 'keep-after-entry']);
  });

  it('holds out a stable 10% of 10,000 customers, identical on a second entry', async () => {
    const at = new Date(START.getTime() + 20 * 86_400_000);
    const running = await start(at);
    const customers = Array.from({ length: 10_000 }, (_, i) => `c-split-${i}`);
    const groups = async (occurrence: string): Promise<Map<string, string>> => {
      await enter(
        running,
        customers.map((c) => reached(c, 'split_moment', occurrence, at)),
      );
      const db = running.app.get<DataSource>(serviceDatabaseToken('journeys'));
      const rows = await queryRows<{ customer_id: string; grp: string }>(
        db,
        `SELECT customer_id, grp FROM journeys.instances WHERE journey_key = 'split' AND occurrence_id LIKE $1`,
        [`%-${occurrence}`],
      );
      return new Map(rows.map((row) => [row.customer_id, row.grp]));
    };

    const first = await groups('1');
    expect(first.size).toBe(10_000);
    const held = [...first.values()].filter((g) => g === 'holdout').length;
    expect(held).toBeGreaterThanOrEqual(900);
    expect(held).toBeLessThanOrEqual(1100);
    expect(customers.filter((c) => first.get(c) === 'holdout')).toEqual(
      customers.filter((c) => isInHoldout(c, 'split', 10)),
    );
    // The holdout receives nothing; everybody else got exactly one message.
    expect(requested(running.bus, 'only')).toHaveLength(10_000 - held);

    const second = await groups('2');
    expect(second).toEqual(first);
  });
});
