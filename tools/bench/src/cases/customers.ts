import { InMemoryBus } from '@mmp/bus';
import { AppConfig } from '@mmp/config';
import { queryRows, runSql, serviceDatabaseToken } from '@mmp/persistence';
import { ALL_SERVICES } from '@mmp/platform-services';
import { loadProgramFromDir, ProgramStore } from '@mmp/program';
import { loopbackUrlOf, startServices } from '@mmp/server';
import type { DataSource } from 'typeorm';
import type { BenchCase } from '../bench-case';
import { LatencyRecorder } from '../latency';

export const CUSTOMER_SEARCH_FIGURE = 'console: customer search';
export const CUSTOMER_PAGE_FIGURE = 'console: customer page';

const REGISTERED_AT = new Date('2030-01-01T00:00:00Z');

function settingsOf(env: Record<string, string | undefined>): { customers: number; samples: number } {
  const read = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    const value = raw ? Number(raw.replaceAll('_', '')) : fallback;
    if (!Number.isInteger(value) || value < 100)
      throw new Error(`${name} must be an integer of at least 100, got ${raw}`);
    return value;
  };
  return {
    customers: read('BENCH_CUSTOMERS', 1_000_000),
    samples: read('BENCH_CUSTOMER_SAMPLES', 400),
  };
}

/** Customer i: id `c-i`, email `Customer.i@example.com`, phone `+1 555` and i in 7 digits. */
const phoneOf = (i: number): string => `+1555${String(i).padStart(7, '0')}`;

/**
 * The operator console's customer lookups over BENCH_CUSTOMERS (1,000,000) customers in the
 * database, each with three events: `GET /v1/customers?query=` by a whole email (any case), an
 * id prefix and a phone as typed, in turn; and the customer page, the console's requests for one
 * customer at once (profile, events, milestones, journeys, messages, consent and its history).
 * Latency p50/p99 over BENCH_CUSTOMER_SAMPLES lookups of random customers, one at a time.
 */
export const customersCase: BenchCase = {
  id: 'customers',
  description: 'console customer search and customer page over BENCH_CUSTOMERS customers',
  async run(context) {
    const settings = settingsOf(process.env);
    const databaseUrl = await context.createDatabase();
    const app = await startServices({
      name: 'platform',
      services: ALL_SERVICES,
      config: AppConfig.fromEnvironment({
        DATABASE_URL: databaseUrl,
        PORT: '0',
        API_KEYS: 'bench-key',
        PROGRAM_DIR: 'program',
        LOG_LEVEL: 'warn',
      }),
      bus: new InMemoryBus(),
      program: new ProgramStore(loadProgramFromDir('program')),
    });
    context.onCleanup(() => app.close());
    const db = app.get<DataSource>(serviceDatabaseToken('ingestion'), { strict: false });
    const loadStarted = performance.now();
    await load(db, settings.customers);
    context.log(
      `customers: stored ${settings.customers} customers and ${settings.customers * 3} events in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    );

    const baseUrl = await loopbackUrlOf(app);
    const get = async (path: string): Promise<unknown> => {
      const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: 'Bearer bench-key' } });
      const body: unknown = await response.json();
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      return body;
    };
    const found = (body: unknown): number =>
      typeof body === 'object' && body !== null && 'items' in body && Array.isArray(body.items)
        ? body.items.length
        : 0;
    // Deterministic "random" customers, so that reruns ask the same.
    const customerAt = (n: number): number => (n * 7919 + 104729) % settings.customers;
    const queries = [
      (i: number) => `CUSTOMER.${i}@EXAMPLE.COM`,
      (i: number) => `c-${i}`,
      (i: number) => phoneOf(i).replace(/^(\+1)(555)(\d{3})/, '$1 $2 $3 '),
    ];

    const search = new LatencyRecorder();
    const page = new LatencyRecorder();
    for (let n = -10; n < settings.samples; n += 1) {
      const i = customerAt(n + 10);
      const query = queries[(n + 10) % queries.length]!(i);
      const started = performance.now();
      const answer = await get(`/v1/customers?query=${encodeURIComponent(query)}&limit=20`);
      const searched = performance.now() - started;
      if (found(answer) === 0) throw new Error(`search for ${query} found nothing`);
      const id = encodeURIComponent(`c-${i}`);
      const pageStarted = performance.now();
      await Promise.all(
        [
          `/v1/customers/${id}`,
          `/v1/customers/${id}/events?limit=50`,
          `/v1/customers/${id}/milestones`,
          `/v1/customers/${id}/journeys`,
          `/v1/customers/${id}/messages`,
          `/v1/customers/${id}/consent`,
          `/v1/customers/${id}/consent/history`,
        ].map(get),
      );
      // The first few are warm-up: connections and plans.
      if (n < 0) continue;
      search.record(searched);
      page.record(performance.now() - pageStarted);
    }
    context.log(`customers: search ${search.summary()}`);
    context.log(`customers: page ${page.summary()}`);
    const size = `${settings.customers.toLocaleString('en-US')} customers`;
    return [
      { name: `${CUSTOMER_SEARCH_FIGURE} p50 (${size})`, value: search.percentileMs(50), unit: 'ms' },
      { name: `${CUSTOMER_SEARCH_FIGURE} p99 (${size})`, value: search.percentileMs(99), unit: 'ms' },
      { name: `${CUSTOMER_PAGE_FIGURE} p50 (${size})`, value: page.percentileMs(50), unit: 'ms' },
      { name: `${CUSTOMER_PAGE_FIGURE} p99 (${size})`, value: page.percentileMs(99), unit: 'ms' },
    ];
  },
};

/** Profiles and events as ingestion would have stored them, one set-based statement each. */
async function load(db: DataSource, customers: number): Promise<void> {
  await runSql(
    db,
    `INSERT INTO ingestion.profiles (customer_id, traits, trait_versions, event_counts, registered_at, created_at, updated_at)
     SELECT 'c-' || i,
            jsonb_build_object('email', 'Customer.' || i || '@example.com', 'phone', '+1555' || lpad(i::text, 7, '0'),
                               'firstName', 'Ann', 'lastName', 'Lee' || (i % 1000)),
            '{}', '{"customer.registered": 1, "order.placed": 2}',
            $2::timestamptz + make_interval(mins => (i % 525600)::int), $2, $2
       FROM generate_series(0, $1::bigint - 1) AS i`,
    [customers, REGISTERED_AT],
  );
  await runSql(
    db,
    `INSERT INTO ingestion.events (event_id, customer_id, anonymous_id, type, occurred_at, received_at, triggerable, properties)
     SELECT 'e-' || i || '-' || k, 'c-' || i, NULL, CASE WHEN k = 0 THEN 'customer.registered' ELSE 'order.placed' END,
            $2::timestamptz + make_interval(days => k * 30, mins => (i % 1440)::int),
            $2::timestamptz + make_interval(days => k * 30, mins => (i % 1440)::int), false,
            CASE WHEN k = 0 THEN '{}'::jsonb
                 ELSE jsonb_build_object('orderId', 'o-' || i || '-' || k, 'total', '19.90', 'currency', 'USD') END
       FROM generate_series(0, $1::bigint - 1) AS i, generate_series(0, 2) AS k`,
    [customers, REGISTERED_AT],
  );
  await runSql(db, `VACUUM ANALYZE ingestion.profiles, ingestion.events`);
  const [count] = await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM ingestion.profiles`);
  if (count?.n !== customers) throw new Error(`stored ${count?.n} customers, expected ${customers}`);
}
