import { AnalyticsModule } from '@mmp/analytics-service';
import { InMemoryBus } from '@mmp/bus';
import { SandboxClock } from '@mmp/clock';
import { AppConfig } from '@mmp/config';
import { queryRows, runSql, serviceDatabaseToken } from '@mmp/persistence';
import { parseProgram, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { DataSource } from 'typeorm';
import type { BenchCase } from '../bench-case';

export const ANALYTICS_QUERY_FIGURE = 'analytics: journey metrics query';

const JOURNEYS = 10;
const ENTERED_AT = new Date('2031-03-15T10:00:00Z');

/** The knobs of this case, read once when it runs. */
function settingsOf(env: Record<string, string | undefined>): { events: number; repeats: number } {
  const read = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw.replaceAll('_', '')) : fallback;
    if (!Number.isInteger(value) || value < 8)
      throw new Error(`${name} must be an integer of at least 8, got ${raw}`);
    return value;
  };
  return { events: read('BENCH_ANALYTICS_EVENTS', 2_000_000), repeats: read('BENCH_ANALYTICS_REPEATS', 9) };
}

/**
 * `GET /v1/analytics/journeys/{key}` over a store of BENCH_ANALYTICS_EVENTS message events,
 * generated set-based (2,000,000 by default, so the whole run stays within a couple of minutes;
 * BENCH_ANALYTICS_EVENTS=10000000 is the 10M sizing, about three minutes of loading on 2 cores): ten journeys, two sends per treatment entrant
 * (the second with variants a/b), each message sent, delivered, opened and clicked; a tenth of
 * entrants held out; orders for about one in eight. The figure is the median answer time over
 * BENCH_ANALYTICS_REPEATS requests for one journey (a tenth of the events), after one warm-up.
 */
export const analyticsCase: BenchCase = {
  id: 'analytics',
  description:
    'journey metrics (counts, lift, revenue, per step and variant) over BENCH_ANALYTICS_EVENTS stored message events',
  async run(context) {
    const settings = settingsOf(process.env);
    const databaseUrl = await context.createDatabase();
    const clock = new SandboxClock();
    clock.moveTo(new Date(ENTERED_AT.getTime() + 30 * 86_400_000));
    const app = await startServices({
      name: 'analytics',
      services: [AnalyticsModule],
      config: AppConfig.fromEnvironment({
        DATABASE_URL: databaseUrl,
        PORT: '0',
        API_KEYS: 'bench-key',
        SANDBOX: 'true',
        LOG_LEVEL: 'warn',
      }),
      bus: new InMemoryBus(),
      clock,
      program: new ProgramStore(parseProgram('journeys: []')),
    });
    context.onCleanup(() => app.close());
    const db = app.get<DataSource>(serviceDatabaseToken('analytics'), { strict: false });

    const loadStarted = performance.now();
    await load(db, settings.events);
    const [stored] = await queryRows<{ facts: number; entries: number }>(
      db,
      `SELECT (SELECT count(*)::int FROM analytics.message_facts) AS facts,
              (SELECT count(*)::int FROM analytics.entries) AS entries`,
    );
    if (stored?.facts !== settings.events)
      throw new Error(`stored ${stored?.facts} message events, expected ${settings.events}`);
    context.log(
      `analytics: stored ${stored.facts} message events and ${stored.entries} entries in ${seconds(loadStarted).toFixed(1)} s`,
    );

    const url = `${await loopbackUrlOf(app)}/v1/analytics/journeys/bench_j0`;
    const ask = async (): Promise<number> => {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: 'Bearer bench-key' } });
      const body: unknown = await response.json();
      if (response.status !== 200 || typeof body !== 'object' || body === null || !('sent' in body))
        throw new Error(`metrics answered ${response.status}`);
      return performance.now() - started;
    };
    await ask();
    const times: number[] = [];
    for (let i = 0; i < settings.repeats; i += 1) times.push(await ask());
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    context.log(`analytics: metrics of one journey in ${median.toFixed(0)} ms (median of ${times.length})`);
    return [
      {
        name: `${ANALYTICS_QUERY_FIGURE} (${(settings.events / 1e6).toFixed(1)}M events)`,
        value: median,
        unit: 'ms (median)',
      },
    ];
  },
};

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** The store as the consumers would have filled it, one set-based statement per table. */
async function load(db: DataSource, events: number): Promise<void> {
  const entrants = Math.ceil(events / 8);
  // Bulk loading: the secondary indexes are rebuilt once afterwards from their own definitions
  // (as a restore would), which is several times faster than maintaining them row by row.
  const secondary = await queryRows<{ name: string; definition: string }>(
    db,
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
      WHERE i.schemaname = 'analytics' AND i.tablename = 'message_facts'
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const index of secondary) await runSql(db, `DROP INDEX analytics.${index.name}`);
  // Entrant e receives events 8e..8e+7: two messages, four statuses each.
  await runSql(
    db,
    `INSERT INTO analytics.message_facts
       (message_id, status, customer_id, journey_key, step_id, milestone_key, template, variant, channel, reason, occurred_at)
     SELECT 'm-' || (i / 4), (ARRAY['sent', 'delivered', 'opened', 'clicked'])[1 + i % 4], 'c-' || (i / 8),
            'bench_j' || ((i / 8) % $2), step, 'bench', step, variant, 'email', NULL,
            $3::timestamptz + make_interval(days => ((i / 8) % 28)::int, mins => ((i % 8) * 30)::int)
       FROM generate_series(0, $1::bigint - 1) AS i,
            LATERAL (SELECT CASE WHEN (i / 4) % 2 = 0 THEN 'celebrate' ELSE 'nudge' END AS step,
                            CASE WHEN (i / 4) % 2 = 0 THEN NULL ELSE CASE WHEN (i / 8) % 3 = 0 THEN 'b' ELSE 'a' END END AS variant) s`,
    [events, JOURNEYS, ENTERED_AT],
  );
  // Every entrant above, plus a holdout of one for every nine of them.
  await runSql(
    db,
    `INSERT INTO analytics.entries (instance_id, journey_key, customer_id, grp, entered_at, goal_event, goal_ends_at)
     SELECT 'i-' || e, 'bench_j' || (e % $2), 'c-' || e, CASE WHEN e >= $1 THEN 'holdout' ELSE 'treatment' END,
            $3::timestamptz + make_interval(days => (e % 28)::int), 'order.placed',
            $3::timestamptz + make_interval(days => (e % 28 + 7)::int)
       FROM generate_series(0, $1::bigint + $1::bigint / 9 - 1) AS e`,
    [entrants, JOURNEYS, ENTERED_AT],
  );
  await runSql(
    db,
    `INSERT INTO analytics.customer_activity (event_id, customer_id, type, occurred_at, order_id, amount, currency)
     SELECT 'o-' || e, 'c-' || e, 'order.placed', $2::timestamptz + make_interval(days => (e % 28 + 2)::int), 'o-' || e, 50 + e % 100, 'USD'
       FROM generate_series(0, $1::bigint + $1::bigint / 9 - 1) AS e
      WHERE hashint8(e) % 8 = 0`,
    [entrants, ENTERED_AT],
  );
  await runSql(
    db,
    `INSERT INTO analytics.conversions (instance_id, journey_key, customer_id, event_id, converted_at, published_at)
     SELECT 'i-' || substr(a.customer_id, 3), e.journey_key, a.customer_id, a.event_id, a.occurred_at, a.occurred_at
       FROM analytics.customer_activity a JOIN analytics.entries e ON e.customer_id = a.customer_id`,
  );
  for (const index of secondary) await runSql(db, index.definition);
  await runSql(
    db,
    // Steady state: autovacuum would have set the visibility map that index-only scans rely on.
    `VACUUM ANALYZE analytics.message_facts, analytics.entries, analytics.customer_activity, analytics.conversions`,
  );
}
