import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A Kafka-protocol cluster for tests and local runs without a broker: librdkafka's mock cluster,
 * carried by a `kcat` consumer that keeps it alive. Produce, consume, consumer groups, headers
 * and transactions work against it; CreateTopics and kafkajs's idempotent producer do not (the
 * Kafka bus recognises the mock and turns idempotence off, saying so), topics auto-create with
 * 4 partitions on the first metadata request, and each partition keeps about 5 MB, deleting its
 * oldest produce batches beyond that.
 */
export interface KafkaMock {
  /** host:port of every mock broker, ready for KAFKA_BROKERS. */
  readonly brokers: string[];
  /** Stops the cluster and waits for the process to exit; calling it again is harmless. */
  stop(): Promise<void>;
}

export interface KafkaMockOptions {
  /** How many brokers the mock cluster has (3 unless told). */
  brokers?: number;
  /** How long to wait for the cluster to announce its address (15 s unless told). */
  startTimeoutMs?: number;
}

const KCAT_MISSING = 'kcat not found on PATH: install it with `apt-get install -y kcat`';
const BOOTSTRAP_PATTERN = /bootstrap\.servers=(\S+)/;
/** The mock logs every connection at debug level; only the last lines are kept for error messages. */
const LOG_TAIL_LINES = 40;

export async function startKafkaMock(options: KafkaMockOptions = {}): Promise<KafkaMock> {
  const brokerCount = options.brokers ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  if (!Number.isInteger(brokerCount) || brokerCount < 1) {
    throw new Error(`brokers must be a positive integer, got ${brokerCount}`);
  }

  const child = spawn(
    'kcat',
    [
      '-X',
      `test.mock.num.brokers=${brokerCount}`,
      '-b',
      'localhost:9092',
      '-C',
      '-t',
      '_keepalive',
      '-d',
      'mock',
      '-q',
    ],
    // The environment is passed explicitly so that PATH is read from the same object callers
    // (and jest's per-file sandbox) see, not from a copy taken when the process started.
    { stdio: ['ignore', 'ignore', 'pipe'], env: process.env },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const logTail: string[] = [];
  let partialLine = '';
  const bootstrap = new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `the kcat mock cluster did not announce bootstrap.servers within ${startTimeoutMs} ms; last log lines:\n${logTail.join('\n')}`,
        ),
      );
    }, startTimeoutMs);
    const settle = (outcome: () => void): void => {
      clearTimeout(timer);
      outcome();
    };

    // stderr is drained for the whole life of the process: a full pipe would block kcat.
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) {
        logTail.push(line);
        if (logTail.length > LOG_TAIL_LINES) logTail.shift();
        const servers = BOOTSTRAP_PATTERN.exec(line)?.[1];
        if (servers) settle(() => resolve(servers.split(',')));
      }
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle(() => reject(error.code === 'ENOENT' ? new Error(KCAT_MISSING) : error));
    });
    child.once('close', (code, signal) => {
      settle(() =>
        reject(
          new Error(
            `kcat exited (${signal ?? `code ${code}`}) before the mock cluster was ready; last log lines:\n${logTail.join('\n')}`,
          ),
        ),
      );
    });
  });

  let brokers: string[];
  try {
    brokers = await bootstrap;
  } catch (error) {
    await terminate(child, exited);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    brokers,
    stop: () => (stopping ??= terminate(child, exited)),
  };
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const forceKill = setTimeout(() => child.kill('SIGKILL'), 5_000);
  try {
    await exited;
  } finally {
    clearTimeout(forceKill);
  }
}
