import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxClock } from '@mmp/clock';
import { JourneysModule } from '@mmp/journeys-service';
import { queryRows, runSql, serviceDatabaseToken } from '@mmp/persistence';
import { journeyVersion, parseProgram, type Program } from '@mmp/program';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { BenchCase, BenchContext } from '../bench-case';
import type { Figure } from '../figures';
import { startBenchServices } from '../services';
import { driver } from './journeys.driver';

/**
 * The journeys service alone on the Kafka bus and its own database, with BENCH_TIMERS_PENDING
 * waits (1,000,000) inserted first, measured twice:
 * - due timers fired per second: the waits are inserted in one set-based statement, and
 *   BENCH_TIMERS_DUE of them (50,000) fall due when the sandbox clock moves,
 *   and the scheduler must fire each exactly once (each wakes, sends and completes);
 * - latency from milestones.reached.v1 produced to messages.requested.v1 consumed, p50/p99, for a
 *   one-step journey at a steady BENCH_JOURNEY_RATE milestones per second (200), while all the
 *   waits are pending (none due yet).
 */

const PROGRAM = `
policies: { timezone: America/New_York }
milestones:
  - { key: bench_timer_moment, kind: nth_event, event: bench.timer, n: 1 }
  - { key: bench_welcome_moment, kind: nth_event, event: bench.welcome, n: 1 }
journeys:
  - key: bench_timer
    trigger: bench_timer_moment
    steps:
      - { id: pause, wait: { days: 1 } }
      - { id: hello, send: { template: bench_email } }
  - key: bench_welcome
    trigger: bench_welcome_moment
    steps:
      - { id: hello, send: { template: bench_email } }
templates:
  bench_email: { channel: email, subject: 'Hello', text: 'Hello' }
`;

interface JourneysBenchSettings {
  pendingTimers: number;
  dueTimers: number;
  latencyCustomers: number;
  latencyWarmup: number;
  latencyPerSecond: number;
}

/** The knobs of this case, read once when it runs (the shared options cover the order path). */
function settingsOf(env: Record<string, string | undefined>): JourneysBenchSettings {
  const read = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw.replaceAll('_', '')) : fallback;
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${name} must be a positive integer, got ${raw}`);
    return value;
  };
  const pendingTimers = read('BENCH_TIMERS_PENDING', 1_000_000);
  return {
    pendingTimers,
    dueTimers: Math.min(pendingTimers, read('BENCH_TIMERS_DUE', 50_000)),
    latencyCustomers: read('BENCH_JOURNEY_LATENCY_CUSTOMERS', 2_000),
    latencyWarmup: read('BENCH_JOURNEY_LATENCY_WARMUP', 200),
    latencyPerSecond: read('BENCH_JOURNEY_RATE', 200),
  };
}

export const journeysCase: BenchCase = {
  id: 'journeys',
  description:
    'journeys alone on Kafka: due timers fired per second among 1M waits; milestone → message request latency',
  async run(context) {
    const settings = settingsOf(process.env);
    const program = parseProgram(PROGRAM);
    const { app, clock } = await startJourneys(context, program);
    const figures: Figure[] = [];
    // The waits first: the latency is measured with all of them pending, none due yet.
    const waits = await insertWaits(context, app, clock, program, settings);

    const latency = await context.runDriver(driver, {
      runId: context.runId,
      milestoneKey: 'bench_welcome_moment',
      warmupCustomers: settings.latencyWarmup,
      customers: settings.latencyCustomers,
      perSecond: settings.latencyPerSecond,
      stallTimeoutMs: context.options.stallTimeoutMs,
    });
    if (latency.duplicates > 0)
      throw new Error(`journeys latency: ${latency.duplicates} message requests were published twice`);
    const load = `${settings.latencyPerSecond}/s`;
    figures.push(
      { name: `journeys milestone → request p50 (${load})`, value: latency.latencyMs.p50, unit: 'ms' },
      { name: `journeys milestone → request p99 (${load})`, value: latency.latencyMs.p99, unit: 'ms' },
    );

    const fired = await fireDueWaits(context, clock, settings, waits);
    figures.push({
      name: `journeys due timers fired (${settings.pendingTimers} waits)`,
      value: fired,
      unit: 'timers/s',
    });
    return figures;
  },
};

async function startJourneys(
  context: BenchContext,
  program: Program,
): Promise<{ app: INestApplication; clock: SandboxClock }> {
  const clock = new SandboxClock();
  const { app } = await startBenchServices(context, {
    name: 'journeys',
    services: [JourneysModule],
    env: { SANDBOX: 'true' },
    clock,
    program,
  });
  return { app, clock };
}

interface InsertedWaits {
  db: DataSource;
  /** The latest wake-up time of the waits that fall due; the others wake from 30 days on. */
  dueAt: Date;
}

/** Inserts the waits, in one statement; the due ones wake within the hour of the clock, not yet. */
async function insertWaits(
  context: BenchContext,
  app: INestApplication,
  clock: SandboxClock,
  program: Program,
  settings: JourneysBenchSettings,
): Promise<InsertedWaits> {
  const db = app.get<DataSource>(serviceDatabaseToken('journeys'));
  const journey = program.journeys.find((j) => j.key === 'bench_timer');
  if (!journey) throw new Error('the bench program has no bench_timer journey');
  const version = journeyVersion(journey);
  const now = clock.now();
  const dueAt = new Date(now.getTime() + 3_600_000);
  const inserting = performance.now();
  await runSql(
    db,
    `INSERT INTO journeys.journey_versions (journey_key, version, definition, created_at)
     VALUES ('bench_timer', $1, $2::jsonb, $3) ON CONFLICT DO NOTHING`,
    [version, JSON.stringify(journey), now],
  );
  // One statement: the due ones wake within the hour, the rest from 30 days on. Their entries
  // are marked published, as they would be long before a million waits piled up: left pending,
  // the entry sweep published them 500 a second through the latency phase, which then measured
  // that backlog rather than journeys.
  await runSql(
    db,
    `INSERT INTO journeys.instances
       (instance_id, journey_key, journey_version, customer_id, occurrence_id, milestone, profile,
        grp, status, step_index, wake_at, wait_reason, entered_at, updated_at, entry_published_at)
     SELECT 'bench-' || g, 'bench_timer', $1, $2 || g, 'occ-' || g,
            '{"key":"bench_timer_moment","occurrence":"1"}'::jsonb,
            jsonb_build_object('customerId', $2 || g, 'traits', jsonb_build_object('email', $2 || g || '@example.com'),
              'attributes', '{"lifetimeOrders":1,"lifetimeValue":"10.00","currency":"USD","firstOrderAt":null,"lastOrderAt":null,"registeredAt":null,"eventCounts":{}}'::jsonb),
            'treatment', 'waiting', 0,
            CASE WHEN g <= $3 THEN $4::timestamptz - (g % 3600) * interval '1 second'
                 ELSE $5::timestamptz + g * interval '1 second' END,
            'wait', $6, $6, $6
       FROM generate_series(1, $7::int) AS g`,
    [
      version,
      `${context.runId}-t-`,
      settings.dueTimers,
      dueAt,
      new Date(now.getTime() + 30 * 86_400_000),
      now,
      settings.pendingTimers,
    ],
  );
  const inserted = performance.now();
  // Settled before measuring, as a million waits that piled up over days would be: vacuumed
  // (autovacuum would otherwise scan the new million rows during the latency phase) and
  // checkpointed (the next checkpoint would otherwise flush the insert's pages then, and every
  // page journeys first touched after it would go to the WAL whole). What is measured is then
  // journeys among a million waits, not the aftermath of inserting them.
  await runSql(db, 'VACUUM (ANALYZE) journeys.instances');
  try {
    await runSql(db, 'CHECKPOINT');
  } catch (error) {
    // Only a superuser or pg_checkpoint may; a DATABASE_URL role may be neither.
    context.log(`journeys timers: no CHECKPOINT before measuring (${String(error)})`);
  }
  context.log(
    `journeys timers: ${settings.pendingTimers} waits inserted in ${((inserted - inserting) / 1000).toFixed(1)} s, ` +
      `vacuumed and checkpointed in ${((performance.now() - inserted) / 1000).toFixed(1)} s`,
  );
  return { db, dueAt };
}

/** Moves the clock past the due waits and times the scheduler firing them all, each once. */
async function fireDueWaits(
  context: BenchContext,
  clock: SandboxClock,
  settings: JourneysBenchSettings,
  { db, dueAt }: InsertedWaits,
): Promise<number> {
  const moveTo = new Date(dueAt.getTime() + 60_000);
  const started = performance.now();
  clock.moveTo(moveTo);
  let lastProgressAt = started;
  let remaining = settings.dueTimers;
  while (remaining > 0) {
    await sleep(100);
    const [row] = await queryRows<{ due: number }>(
      db,
      `SELECT count(*)::int AS due FROM journeys.instances WHERE status = 'waiting' AND wake_at <= $1`,
      [moveTo],
    );
    const due = row?.due ?? 0;
    if (due < remaining) lastProgressAt = performance.now();
    remaining = due;
    if (performance.now() - lastProgressAt > context.options.stallTimeoutMs)
      throw new Error(`journeys timers: stalled with ${remaining} due timers left`);
  }
  const seconds = (performance.now() - started) / 1000;
  // Publishing happens after commit: wait for the outbox to drain before checking it.
  for (let pending = 1; pending > 0;) {
    const [row] = await queryRows<{ pending: number }>(
      db,
      `SELECT count(*)::int AS pending FROM journeys.outbox WHERE published_at IS NULL`,
    );
    pending = row?.pending ?? 0;
    if (pending > 0) await sleep(100);
  }
  const [check] = await queryRows<{ sent: number; completed: number; waiting: number }>(
    db,
    `SELECT (SELECT count(*)::int FROM journeys.outbox o JOIN journeys.instances i USING (instance_id)
              WHERE i.journey_key = 'bench_timer') AS sent,
            count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'waiting')::int AS waiting
       FROM journeys.instances WHERE journey_key = 'bench_timer'`,
  );
  const expected = {
    sent: settings.dueTimers,
    completed: settings.dueTimers,
    waiting: settings.pendingTimers - settings.dueTimers,
  };
  if (JSON.stringify(check) !== JSON.stringify(expected))
    throw new Error(`journeys timers: expected ${JSON.stringify(expected)}, found ${JSON.stringify(check)}`);
  context.log(
    `journeys timers: ${settings.dueTimers} due timers fired once each in ${seconds.toFixed(1)} s; ${expected.waiting} still pending`,
  );
  return settings.dueTimers / seconds;
}
