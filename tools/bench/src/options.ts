import type { PostgresMode } from './environment';

export type Environment = Record<string, string | undefined>;

/** Every knob of a run, read once from the environment; the defaults keep a whole run near two minutes on 2 cores. */
export interface BenchOptions {
  /** BENCH_OUT: where the JSON report goes (nothing is written when unset). */
  out: string | undefined;
  /** BENCH_CASES: comma list of case ids to run, in registry order (all when unset). */
  cases: readonly string[] | undefined;
  /** BENCH_RAW_EVENTS: events through the raw kafkajs consume→produce pipe. */
  rawEvents: number;
  /** BENCH_RAW_WINDOW: events produced but not yet out of the pipe, at most (bounds the mock's per-partition memory). */
  rawWindow: number;
  /** BENCH_PATH_EVENTS: retailer events of the measured order-path stream (3 per customer). */
  pathEvents: number;
  /**
   * BENCH_PATH_CHUNK: customers per produce call while saturating. On the kcat mock this sets the
   * services' batch sizes (its Fetch returns one produced batch per partition), so it is chosen
   * large, like the backlog a real broker hands a consumer that is behind.
   */
  pathChunkCustomers: number;
  /** BENCH_PATH_WINDOW: customers produced whose email was not seen yet, at most (bounds the mock's per-partition memory). */
  pathWindow: number;
  /** BENCH_PATH_WARMUP: customers sent through the path before measuring (JIT, pools, group joins). */
  pathWarmupCustomers: number;
  /** BENCH_LATENCY_CUSTOMERS: customers of the paced latency phase (0 skips it). */
  latencyCustomers: number;
  /**
   * BENCH_LATENCY_RATE: customers per second of the paced latency phase; low enough to be
   * sustained on a busy 2-core machine, so the figure is the path's own latency, not a queue's.
   */
  latencyRate: number;
  /** BENCH_PHASE_TIMEOUT_S: a stream that makes no progress for this long fails the run. */
  stallTimeoutMs: number;
  /**
   * BENCH_POSTGRES: `durable` (default) runs Postgres as `npm start` does (fsync, synchronous
   * commit, full-page writes); `fast` turns them off like the tests, for comparison only.
   */
  postgresMode: PostgresMode;
  /** BENCH_CPU_PROFILE: where to write the order path's main-thread CPU profile (`.cpuprofile`, for Chrome DevTools); unset: not written. */
  cpuProfile: string | undefined;
}

export function readOptions(env: Environment): BenchOptions {
  return {
    out: nonEmpty(env.BENCH_OUT),
    cases: nonEmpty(env.BENCH_CASES)
      ?.split(',')
      .map((id) => id.trim())
      .filter((id) => id.length > 0),
    rawEvents: positiveInteger(env, 'BENCH_RAW_EVENTS', 300_000),
    rawWindow: positiveInteger(env, 'BENCH_RAW_WINDOW', 20_000),
    pathEvents: positiveInteger(env, 'BENCH_PATH_EVENTS', 60_000),
    pathChunkCustomers: positiveInteger(env, 'BENCH_PATH_CHUNK', 500),
    pathWindow: positiveInteger(env, 'BENCH_PATH_WINDOW', 3_000),
    pathWarmupCustomers: nonNegativeInteger(env, 'BENCH_PATH_WARMUP', 1_000),
    latencyCustomers: nonNegativeInteger(env, 'BENCH_LATENCY_CUSTOMERS', 1_000),
    latencyRate: positiveInteger(env, 'BENCH_LATENCY_RATE', 50),
    stallTimeoutMs: positiveInteger(env, 'BENCH_PHASE_TIMEOUT_S', 60) * 1000,
    postgresMode: postgresMode(env.BENCH_POSTGRES),
    cpuProfile: nonEmpty(env.BENCH_CPU_PROFILE),
  };
}

function postgresMode(raw: string | undefined): PostgresMode {
  const value = nonEmpty(raw) ?? 'durable';
  if (value === 'durable' || value === 'fast') return value;
  throw new Error(`BENCH_POSTGRES must be durable or fast, got ${value}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function positiveInteger(env: Environment, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value < 1) throw new Error(`${name} must be a positive integer, got ${env[name]}`);
  return value;
}

function nonNegativeInteger(env: Environment, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value < 0) throw new Error(`${name} must be 0 or a positive integer, got ${env[name]}`);
  return value;
}

function integer(env: Environment, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  // Underscores allowed so that BENCH_RAW_EVENTS=1_000_000 reads as it does in code.
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got ${raw}`);
  return value;
}
