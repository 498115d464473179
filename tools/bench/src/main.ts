// Nest's decorators read design-time metadata as the service modules load: this comes first.
import 'reflect-metadata';

import { randomBytes } from 'node:crypto';
import { createTestDatabase, provisionKafka, provisionPostgres, redactUrl } from '@mmp/test-harness';
import type { BenchCase, BenchContext } from './bench-case';
import { BENCH_CASES } from './cases';
import { countPostgresServer } from './cpu';
import { runDriver } from './driver';
import {
  assertPostgresMode,
  describeEnvironment,
  loadAverage,
  machine,
  postmasterPid,
  readPostgresSettings,
  type BenchEnvironment,
} from './environment';
import { formatTable, writeReport, type Figure } from './figures';
import { log } from './log';
import { readOptions, type BenchOptions } from './options';
import { createKafka } from './streaming';

/**
 * `npm run bench`: provisions Kafka and Postgres the way the tests do (KAFKA_BROKERS /
 * DATABASE_URL when set, else a container or the local fallbacks), runs every registered case
 * in order, prints one table on stdout and writes BENCH_OUT. Progress goes to stderr.
 */
async function main(): Promise<number> {
  const options = readOptions(process.env);
  const cases = selectCases(BENCH_CASES, options.cases);
  const runId = randomBytes(4).toString('hex');
  const teardown = new CleanupStack();
  let caseCleanup: CleanupStack | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: cleaning up`);
    // The running case first (its services still use the cluster and the database), then the run's.
    void (caseCleanup?.run() ?? Promise.resolve())
      .then(() => teardown.run())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const figures: Figure[] = [];
  const failures: string[] = [];
  try {
    // Settled together so that whichever one started is stopped even when the other failed.
    const [kafkaResult, postgresResult] = await Promise.allSettled([
      provisionKafka(process.env),
      provisionPostgres(process.env, { durable: options.postgresMode === 'durable' }),
    ]);
    if (kafkaResult.status === 'fulfilled') teardown.push(() => kafkaResult.value.stop());
    if (postgresResult.status === 'fulfilled') teardown.push(() => postgresResult.value.stop());
    if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
    if (postgresResult.status === 'rejected') throw postgresResult.reason;
    const kafka = kafkaResult.value;
    const postgres = postgresResult.value;
    const settings = await readPostgresSettings(postgres.url);
    countPostgresServer(await postmasterPid(postgres.url));
    assertPostgresMode(options.postgresMode, postgres.source, settings);
    const environment: BenchEnvironment = {
      machine: machine(),
      kafka: { kind: kafka.source, brokers: [...kafka.brokers] },
      postgres: { mode: options.postgresMode, source: postgres.source, settings },
      loadAverageAtStart: loadAverage(),
    };
    const header = [`bench run ${runId}`, ...describeEnvironment(environment)];
    for (const line of header) log(line);
    log(`Postgres URL: ${redactUrl(postgres.url)}`);

    for (const benchCase of cases) {
      const cleanup = new CleanupStack();
      caseCleanup = cleanup;
      const context: BenchContext = {
        runId,
        options,
        kafka: { brokers: kafka.brokers, source: kafka.source },
        postgres: { url: postgres.url, source: postgres.source },
        kafkaClient: (clientId) => createKafka(kafka.brokers, clientId),
        runDriver: (driver, input) => runDriver(driver, input, kafka.brokers),
        createDatabase: async () => {
          const database = await createTestDatabase(postgres.url);
          teardown.push(() => database.drop());
          return database.url;
        },
        figure: (name) => figures.find((figure) => figure.name === name),
        log,
        onCleanup: (step) => cleanup.push(step),
      };
      log(`${benchCase.id}: ${benchCase.description}`);
      const startedAt = performance.now();
      try {
        const measured = await benchCase.run(context);
        const [load] = loadAverage();
        figures.push(...measured.map((figure) => ({ ...figure, load })));
      } catch (error) {
        failures.push(`${benchCase.id}: ${describe(error)}`);
        log(
          `${benchCase.id} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      } finally {
        await cleanup.run();
        caseCleanup = undefined;
      }
      log(`${benchCase.id}: done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    }

    console.log(['', ...header, '', formatTable(figures), ''].join('\n'));
    if (options.out) {
      await writeReport(options.out, figures, environment);
      log(`wrote ${figures.length} figures to ${options.out}`);
    }
  } catch (error) {
    failures.push(describe(error));
  } finally {
    await teardown.run();
  }
  for (const failure of failures) console.error(`bench failed: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

function selectCases(all: readonly BenchCase[], ids: BenchOptions['cases']): readonly BenchCase[] {
  if (!ids) return all;
  const unknown = ids.filter((id) => !all.some((benchCase) => benchCase.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_CASES names unknown case(s) ${unknown.join(', ')}; known: ${all.map((c) => c.id).join(', ')}`,
    );
  }
  return all.filter((benchCase) => ids.includes(benchCase.id));
}

/** Cleanup steps, undone last first; a failing step is reported and the others still run. */
class CleanupStack {
  private steps: (() => Promise<void>)[] = [];

  push(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const step of steps) {
      await step().catch((error: unknown) => log(`cleanup step failed: ${describe(error)}`));
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().then(
  // Explicit exit: kafkajs and Nest may leave timers behind after a failed case, and a
  // benchmark that never returns is worse than one that stops once everything is cleaned up.
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
