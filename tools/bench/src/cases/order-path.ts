import { writeFile } from 'node:fs/promises';
import { sandboxOutbox } from '@mmp/channel-sandbox';
import { ALL_SERVICES } from '@mmp/platform-services';
import type { BenchCase, BenchContext } from '../bench-case';
import { cpuFigure, describeCpu, measureCpu, type CpuPerEvent } from '../cpu';
import { withRatio, type Figure } from '../figures';
import { attributeProfile, startMainThreadProfile, startPostgresCpuSampler } from '../service-cpu';
import { startBenchServices } from '../services';
import {
  driver,
  EXPECTED_JOURNEY,
  HOPS,
  throwProblems,
  type OrderPathOutput,
  type PhaseResult,
} from './order-path.driver';
import { RAW_CEILING_CPU_FIGURE, RAW_CEILING_FIGURE } from './raw-ceiling';

export const ORDER_PATH_INGESTION_FIGURE = 'order path ingestion (Kafka → profiles)';

const EVENTS_PER_CUSTOMER = 3;
const EMAIL_RATE_LIMIT_PER_SECOND = 1_000_000;

/**
 * The walking skeleton's order path on the Kafka bus: all six services in the main thread on a
 * fresh database, as `npm start` runs them; customer.registered + two order.placed per customer
 * go into retail.events.v1 from the driver thread (order-path.driver.ts), and each customer must
 * come out as exactly one `sent` second_order_thanks email.
 */
export const orderPathCase: BenchCase = {
  id: 'order-path',
  description: 'six services on the Kafka bus: retail events → profile → milestone → journey → sent email',
  async run(context) {
    const { options, runId } = context;
    const started = performance.now();
    const database = await startPlatform(context);
    context.log(`order path: platform started in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const input = {
      runId,
      warmupCustomers: options.pathWarmupCustomers,
      saturatedCustomers: Math.max(1, Math.round(options.pathEvents / EVENTS_PER_CUSTOMER)),
      chunkCustomers: options.pathChunkCustomers,
      window: options.pathWindow,
      latencyCustomers: 0,
      latencyRate: options.latencyRate,
      stallTimeoutMs: options.stallTimeoutMs,
    };
    // CPU is measured over the warm-up and the saturated stream only: the paced phase is mostly
    // idle consumers polling the broker, which would count as CPU per event.
    const stopPostgresSampler = await startPostgresCpuSampler(database);
    const stopProfile = await startMainThreadProfile();
    const { result: saturatedRun, cpu } = await measureCpu(() => context.runDriver(driver, input));
    const profile = await stopProfile();
    if (options.cpuProfile) {
      await writeFile(options.cpuProfile, JSON.stringify(profile));
      context.log(`order path: main-thread CPU profile written to ${options.cpuProfile}`);
    }
    const mainThread = attributeProfile(profile);
    const postgres = await stopPostgresSampler();
    verifyProviderGotOneEmailEach(saturatedRun);
    // The paced phase on its own customers, after one to open the stream.
    const pacedRun =
      options.latencyCustomers > 0
        ? await context.runDriver(driver, {
            ...input,
            runId: `${runId}p`,
            warmupCustomers: 0,
            saturatedCustomers: 1,
            latencyCustomers: options.latencyCustomers,
          })
        : undefined;
    if (pacedRun) verifyProviderGotOneEmailEach(pacedRun);
    const result: OrderPathOutput = {
      ...saturatedRun,
      customers: saturatedRun.customers + (pacedRun?.customers ?? 0),
      paced: pacedRun?.paced,
      redelivered: {
        profiles: saturatedRun.redelivered.profiles + (pacedRun?.redelivered.profiles ?? 0),
        sent: saturatedRun.redelivered.sent + (pacedRun?.redelivered.sent ?? 0),
      },
    };
    context.log(
      `order path: verified ${result.customers} customers: every event at profiles, exactly one sent ${EXPECTED_JOURNEY} email each` +
        ` (redelivered records seen: ${result.redelivered.profiles} at profiles, ${result.redelivered.sent} sent)`,
    );
    logHops(context, 'saturated', result.saturated);
    if (result.paced) logHops(context, 'paced', result.paced);
    if (result.paced?.keptUp === false) {
      context.log(
        `order path: WARNING: the platform did not keep up with ${options.latencyRate} customers/s (busy machine?): the paced latencies include queueing`,
      );
    }
    const cpuEvents = saturatedRun.customers * EVENTS_PER_CUSTOMER;
    const perEvent = cpu(cpuEvents);
    return [
      ...figuresOf(result, context),
      ...cpuFigure(
        context,
        'order path: CPU per event (services, runtime threads, Postgres)',
        perEvent,
        RAW_CEILING_CPU_FIGURE,
      ),
      ...serviceCpuFigures(context, perEvent, mainThread, postgres, cpuEvents),
    ];
  },
};

/**
 * Each service's CPU per event on the order path: its share of the main thread (from the CPU
 * profile, scaled to the thread's measured CPU) plus its Postgres backends (by application
 * name). The runtime's threads and the broker serve all six and are logged beside them.
 */
function serviceCpuFigures(
  context: BenchContext,
  cpu: CpuPerEvent | undefined,
  mainThread: Map<string, number>,
  postgres: Map<string, number>,
  events: number,
): Figure[] {
  if (!cpu) return [];
  const profiledMs = [...mainThread.values()].reduce((sum, ms) => sum + ms, 0);
  const mainUs = (bucket: string): number =>
    profiledMs === 0 ? 0 : ((mainThread.get(bucket) ?? 0) / profiledMs) * cpu.us.service;
  const postgresUs = (service: string): number => ((postgres.get(`mmp-${service}`) ?? 0) * 1000) / events;
  const rows = [...mainThread.keys()]
    .map((bucket) => ({ bucket, main: mainUs(bucket), postgres: postgresUs(bucket) }))
    .sort((a, b) => b.main + b.postgres - (a.main + a.postgres));
  context.log(`order path: CPU per event: ${describeCpu(cpu)}`);
  context.log(
    `order path: CPU per event by service (µs; main thread from a ${(profiledMs / 1000).toFixed(1)} s CPU profile, Postgres by application_name):`,
  );
  for (const row of rows) {
    context.log(
      `  ${row.bucket.padEnd(34)} main ${row.main.toFixed(1).padStart(7)}  postgres ${row.postgres.toFixed(1).padStart(7)}`,
    );
  }
  const unattributedPostgres =
    cpu.us.postgres - [...postgres.values()].reduce((sum, ms) => sum + (ms * 1000) / events, 0);
  context.log(
    `  runtime threads ${cpu.us.runtime.toFixed(1)}, Kafka broker ${cpu.us.kafka.toFixed(1)}, driver ${cpu.us.driver.toFixed(1)}, Postgres outside the services' backends ${unattributedPostgres.toFixed(1)}`,
  );
  return SERVICE_NAMES.map((service) => ({
    name: `order path: CPU per event, ${service} (main thread + Postgres)`,
    value: mainUs(service) + postgresUs(service),
    unit: 'µs CPU/event',
  }));
}

const SERVICE_NAMES = ['ingestion', 'milestones', 'journeys', 'delivery', 'consent', 'analytics'] as const;

/** Where the end-to-end latency goes, hop by hop: not a figure, a pointer for whoever makes it faster. */
function logHops(context: BenchContext, name: string, phase: PhaseResult): void {
  const hops = HOPS.map(
    (hop) => `${hop} ${phase.hopsMs[hop].p50.toFixed(0)}/${phase.hopsMs[hop].p99.toFixed(0)}`,
  );
  context.log(`order path: ${name} hops, p50/p99 ms: ${hops.join(', ')}`);
}

/** Starts the six services; answers the URL of their database. */
async function startPlatform(context: BenchContext): Promise<string> {
  const { databaseUrl } = await startBenchServices(context, {
    name: 'platform',
    services: ALL_SERVICES,
    // The path's own capacity, not a provider's: without a setting, delivery holds a channel
    // whose plugin names no rate limit (the sandbox) to a fallback of 50 messages per second.
    env: { EMAIL_RATE_LIMIT: String(EMAIL_RATE_LIMIT_PER_SECOND) },
  });
  return databaseUrl;
}

/**
 * The driver saw one `sent` record per customer; the sandbox provider (in this thread, where the
 * services run) must have been handed exactly one email per customer too: a duplicate send whose
 * status event was deduplicated would show only here.
 */
function verifyProviderGotOneEmailEach(result: OrderPathOutput): void {
  const emails = new Map<string, number>();
  for (const message of sandboxOutbox.all()) {
    if (message.customerId.startsWith(result.customerPrefix))
      emails.set(message.customerId, (emails.get(message.customerId) ?? 0) + 1);
  }
  const problems = [...emails]
    .filter(([, count]) => count !== 1)
    .map(([customerId, count]) => `${customerId}: the sandbox provider got ${count} emails`);
  if (emails.size !== result.customers) {
    problems.push(
      `the sandbox provider got emails for ${emails.size} customers, expected ${result.customers}`,
    );
  }
  throwProblems(problems);
}

function figuresOf(result: OrderPathOutput, context: BenchContext): Figure[] {
  const { saturated, paced } = result;
  const ingestion = saturated.events / saturated.profiledSeconds;
  const figures: Figure[] = [
    withRatio(
      { name: ORDER_PATH_INGESTION_FIGURE, value: ingestion, unit: 'events/s' },
      context.figure(RAW_CEILING_FIGURE),
    ),
    {
      name: 'order path completed customers',
      value: saturated.customers / saturated.completedSeconds,
      unit: 'customers/s',
    },
  ];
  if (paced) {
    const load = `${context.options.latencyRate} customers/s`;
    figures.push(
      { name: `order path end-to-end latency p50 (${load})`, value: paced.latencyMs.p50, unit: 'ms' },
      { name: `order path end-to-end latency p99 (${load})`, value: paced.latencyMs.p99, unit: 'ms' },
    );
  }
  figures.push(
    { name: 'order path end-to-end latency p50 (saturated)', value: saturated.latencyMs.p50, unit: 'ms' },
    { name: 'order path end-to-end latency p99 (saturated)', value: saturated.latencyMs.p99, unit: 'ms' },
  );
  return figures;
}
