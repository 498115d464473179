import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';

/** BENCH_POSTGRES: `durable` (the default: as `npm start` and a retailer run) or `fast` (the tests' settings). */
export type PostgresMode = 'durable' | 'fast';

/** The Postgres settings that decide what a commit costs, as the server reports them. */
export const POSTGRES_SETTINGS = [
  'server_version',
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_level',
  'shared_buffers',
  'max_wal_size',
] as const;
export type PostgresSettings = Record<(typeof POSTGRES_SETTINGS)[number], string>;

/** Where a run measured: printed at the top of the report and stored in BENCH_OUT. */
export interface BenchEnvironment {
  machine: { cores: number; cpuModel: string; memoryGiB: number; node: string };
  kafka: { kind: string; brokers: string[] };
  postgres: { mode: PostgresMode; source: string; settings: PostgresSettings };
  /** 1, 5 and 15 minute load averages of the machine as the run started. */
  loadAverageAtStart: [number, number, number];
}

export function machine(): BenchEnvironment['machine'] {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function loadAverage(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = loadavg().map((value) => Math.round(value * 100) / 100);
  return [one, five, fifteen];
}

export async function readPostgresSettings(url: string): Promise<PostgresSettings> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name`,
      [POSTGRES_SETTINGS],
    );
    const settings = new Map(rows.map((row) => [row.name, row.setting]));
    const of = (name: (typeof POSTGRES_SETTINGS)[number]): string => settings.get(name) ?? 'unknown';
    return {
      server_version: of('server_version'),
      fsync: of('fsync'),
      synchronous_commit: of('synchronous_commit'),
      full_page_writes: of('full_page_writes'),
      wal_level: of('wal_level'),
      shared_buffers: of('shared_buffers'),
      max_wal_size: of('max_wal_size'),
    };
  } finally {
    await client.end();
  }
}

/** The settings that make a commit durable; each one off trades a crash's safety for speed. */
const DURABILITY_SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes'] as const;

/**
 * A durable run on a server that is not durable would print figures a retailer cannot reach:
 * it fails, naming the settings, rather than measure the wrong thing.
 */
export function assertPostgresMode(mode: PostgresMode, source: string, settings: PostgresSettings): void {
  if (mode !== 'durable') return;
  const off = DURABILITY_SETTINGS.filter((name) => settings[name] === 'off');
  if (off.length === 0) return;
  throw new Error(
    `BENCH_POSTGRES=durable (the default), but the Postgres from ${source} runs with ${off
      .map((name) => `${name}=off`)
      .join(', ')}: point DATABASE_URL at a durable server, unset it so the bench starts one, ` +
      `or set BENCH_POSTGRES=fast to measure the fast settings on purpose`,
  );
}

/** The lines at the top of the report. */
export function describeEnvironment(environment: BenchEnvironment): string[] {
  const { machine: m, kafka, postgres, loadAverageAtStart } = environment;
  const s = postgres.settings;
  return [
    `Machine:  ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, load average ${loadAverageAtStart.join(' ')} at start`,
    `Kafka:    ${kafka.kind} (${kafka.brokers.join(',')})`,
    `Postgres: ${postgres.mode} (${postgres.source}), ${s.server_version}: fsync=${s.fsync} synchronous_commit=${s.synchronous_commit} ` +
      `full_page_writes=${s.full_page_writes} wal_level=${s.wal_level} shared_buffers=${s.shared_buffers} max_wal_size=${s.max_wal_size}`,
  ];
}

/**
 * The pid of the server's postmaster, when it runs on this machine: the parent of a backend.
 * Undefined for a server elsewhere (its backend's pid is not ours to read).
 */
export async function postmasterPid(url: string): Promise<number | undefined> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0]?.pid}/stat`, 'utf8');
    if (!stat.includes('(postgres)')) return undefined;
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}
