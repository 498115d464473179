import { InMemoryBus } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { MilestonesReachedTopic } from '@mmp/contracts';
import { MilestoneScheduler, MilestonesModule } from '@mmp/milestones-service';
import { queryRows, runSql, serviceDatabaseToken } from '@mmp/persistence';
import { parseProgram, ProgramStore } from '@mmp/program';
import { startServices } from '@mmp/server';
import type { DataSource } from 'typeorm';
import type { BenchCase } from '../bench-case';

export const MILESTONES_SCHEDULE_FIGURE = 'milestones: schedule 1M birthdays';
export const MILESTONES_DUE_DAY_FIGURE = "milestones: fire one day's due set";

const PROFILES = 1_000_000;
const ZONES = ['America/New_York', 'Europe/Paris', 'Asia/Tokyo', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
/** The clock starts at midnight UTC on DAY; the due set is everything due in the 24 hours after. */
const DAY_START = new Date('2031-03-15T00:00:00Z');
const DAY_END = new Date('2031-03-16T00:00:00Z');
const WITHOUT_BIRTHDAY = `policies: { timezone: UTC, milestoneGracePeriod: 2d }`;
const WITH_BIRTHDAY = `
policies: { timezone: UTC, milestoneGracePeriod: 2d }
milestones:
  - { key: birthday, kind: anniversary, date: birthday, at: "09:00" }
`;

/**
 * The milestones service's time-based schedule at scale, on a fresh database and the in-process
 * bus (the emitted messages are validated and serialised as on Kafka; the broker's own cost is
 * the order path's business). 1,000,000 customer snapshots with birthdays spread over the year
 * and five zones are loaded set-based; then the birthday milestone is added to the program and
 * the scheduler schedules everyone (targets: within 60 s), and the clock moves through one day,
 * whose due set must be fired and emitted, each once (target: within 10 s).
 */
export const milestonesScheduleCase: BenchCase = {
  id: 'milestones-schedule',
  description: 'schedule 1M birthdays, then fire one day of them',
  async run(context) {
    const databaseUrl = await context.createDatabase();
    const clock = new SandboxClock();
    clock.moveTo(DAY_START);
    // Every emitted occurrence is counted below, so keep the whole history (nobody consumes it here).
    const bus = new InMemoryBus({ retainConsumed: Infinity });
    const program = new ProgramStore(parseProgram(WITHOUT_BIRTHDAY));
    const app = await startServices({
      name: 'milestones',
      services: [MilestonesModule],
      config: AppConfig.fromEnvironment({
        DATABASE_URL: databaseUrl,
        PORT: '0',
        API_KEYS: 'bench-key',
        SANDBOX: 'true',
        LOG_LEVEL: 'warn',
      }),
      bus,
      clock,
      program,
    });
    context.onCleanup(() => app.close());
    const db = app.get<DataSource>(serviceDatabaseToken('milestones'), { strict: false });
    const scheduler = app.get(MilestoneScheduler, { strict: false });

    const loadStarted = performance.now();
    await loadProfiles(db);
    context.log(`milestones: loaded ${PROFILES} profiles in ${seconds(loadStarted).toFixed(1)} s`);

    const scheduleStarted = performance.now();
    program.replace(parseProgram(WITH_BIRTHDAY));
    await scheduler.drainNow();
    const scheduleSeconds = seconds(scheduleStarted);
    const [scheduled] = await queryRows<{ total: number; due: number }>(
      db,
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE fire_at <= $1)::int AS due FROM milestones.schedule`,
      [DAY_END],
    );
    if (scheduled?.total !== PROFILES)
      throw new Error(`scheduled ${scheduled?.total} profiles, expected ${PROFILES}`);
    context.log(
      `milestones: scheduled ${scheduled.total} in ${scheduleSeconds.toFixed(1)} s; ${scheduled.due} due on the day`,
    );

    const dueStarted = performance.now();
    clock.moveTo(DAY_END);
    await scheduler.drainNow();
    const dueSeconds = seconds(dueStarted);
    const emitted = bus.messagesOn(MilestonesReachedTopic.name);
    const distinct = new Set(
      emitted.map((message) => MilestonesReachedTopic.schema.parse(message.value).occurrenceId),
    );
    if (emitted.length !== scheduled.due || distinct.size !== scheduled.due) {
      throw new Error(
        `emitted ${emitted.length} (${distinct.size} distinct) occurrences, expected ${scheduled.due} once each`,
      );
    }
    context.log(`milestones: fired and emitted ${emitted.length} in ${dueSeconds.toFixed(2)} s`);
    return [
      { name: MILESTONES_SCHEDULE_FIGURE, value: scheduleSeconds, unit: 's (≤ 60)' },
      { name: MILESTONES_DUE_DAY_FIGURE, value: dueSeconds, unit: 's (≤ 10)' },
    ];
  },
};

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** The profiles as ingestion would have fed them, in one set-based statement: birthdays over 365 days, five zones. */
async function loadProfiles(db: DataSource): Promise<void> {
  await runSql(
    db,
    `INSERT INTO milestones.customer_snapshots (customer_id, profile, last_event_at, updated_at)
     SELECT id, jsonb_build_object(
              'customerId', id,
              'traits', jsonb_build_object(
                'birthday', to_char(date '2001-01-01' + (i % 365), '"--"MM-DD'),
                -- By the year's lap, not i itself: 365 days and 5 zones would pair each day with one zone.
                'timezone', ($2::text[])[1 + (i / 365) % array_length($2::text[], 1)]),
              'attributes', jsonb_build_object(
                'lifetimeOrders', 0, 'lifetimeValue', '0.00', 'currency', null, 'firstOrderAt', null,
                'lastOrderAt', null, 'registeredAt', null, 'eventCounts', '{}'::jsonb)),
            '{}'::jsonb, now()
       FROM generate_series(1, $1::int) AS i, LATERAL (SELECT 'bench-c-' || lpad(i::text, 7, '0') AS id) AS named`,
    [PROFILES, ZONES],
  );
}
