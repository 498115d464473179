// Nest's decorators read design-time metadata as the service modules load: this comes first.
import 'reflect-metadata';

import { writeFileSync } from 'node:fs';
import { provisionKafka, provisionPostgres } from '@mmp/test-harness';
import { formatReport } from './report';
import { runChaos } from './run';

/** A whole number from the environment, or the default. */
function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return value;
}

/**
 * `npm run chaos`: provisions Kafka and Postgres the way the tests do (KAFKA_BROKERS /
 * DATABASE_URL when set, else a container or the local fallbacks), runs the chaos run, prints
 * its figures and exits 1 on any difference from the oracle. Progress goes to stderr.
 */
async function main(): Promise<number> {
  const env = process.env;
  // Exiting runs the exit hooks, which kill the service processes this run started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const [kafkaResult, postgresResult] = await Promise.allSettled([
    provisionKafka(env),
    provisionPostgres(env),
  ]);
  try {
    if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
    if (postgresResult.status === 'rejected') throw postgresResult.reason;
    const report = await runChaos({
      seed: numberFrom(env, 'CHAOS_SEED', 13),
      events: numberFrom(env, 'CHAOS_EVENTS', 100_000),
      customers: numberFrom(env, 'CHAOS_CUSTOMERS', 10_000),
      phases: numberFrom(env, 'CHAOS_PHASES', 5),
      killEveryMs: numberFrom(env, 'CHAOS_KILL_EVERY_MS', 5000),
      ...(env['CHAOS_MAX_KILLS'] ? { maxKills: numberFrom(env, 'CHAOS_MAX_KILLS', 0) } : {}),
      ...(env['CHAOS_START'] ? { startsAt: new Date(env['CHAOS_START']) } : {}),
      postgresUrl: postgresResult.value.url,
      brokers: kafkaResult.value.brokers,
      log: (line) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`),
    });
    console.log(formatReport(report));
    if (env['CHAOS_OUT']) writeFileSync(env['CHAOS_OUT'], `${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    if (kafkaResult.status === 'fulfilled') await kafkaResult.value.stop();
    if (postgresResult.status === 'fulfilled') await postgresResult.value.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
