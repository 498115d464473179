import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { Kafka } from 'kafkajs';
import { log } from './log';
import { createKafka } from './streaming';

/** What a driver gets in its thread. */
export interface DriverContext {
  kafkaClient(clientId: string): Kafka;
  log(message: string): void;
}

/**
 * The load side of a benchmark (producing input, consuming and checking output), run in a
 * worker thread so that the code under test keeps the main thread to itself: on a 2-core
 * machine, a load generator sharing the measured event loop would report its own cost as the
 * system's. Input and output cross threads by structured clone, so keep them plain data.
 */
export interface Driver<I, O> {
  /** The module that exports this driver as `driver`; the worker loads it from there. */
  readonly module: string;
  run(input: I, context: DriverContext): Promise<O>;
}

/** In a driver module: `export const driver = defineDriver(__filename, async (input, context) => ...)`. */
export function defineDriver<I, O>(
  module: string,
  run: (input: I, context: DriverContext) => Promise<O>,
): Driver<I, O> {
  return { module, run };
}

interface DriverWorkerData {
  module: string;
  input: unknown;
  brokers: readonly string[];
}

type DriverReply = { ok: true; output: unknown } | { ok: false; message: string; stack: string | undefined };

/** Runs a driver in a new worker thread and returns what it returned; its failure rejects with its stack. */
export async function runDriver<I, O>(
  driver: Driver<I, O>,
  input: I,
  brokers: readonly string[],
): Promise<O> {
  const workerData: DriverWorkerData = { module: driver.module, input, brokers };
  // The worker compiles TypeScript the way the main thread does (npm run bench preloads
  // @swc-node/register), then hands over to driverThreadMain below.
  const worker = new Worker(
    `require('@swc-node/register'); require(${JSON.stringify(__filename)}).driverThreadMain();`,
    { eval: true, workerData },
  );
  return new Promise<O>((resolve, reject) => {
    let settled = false;
    worker.once('message', (reply: DriverReply) => {
      settled = true;
      // A driver disconnects what it opened, but a stray kafkajs timer must not keep the thread alive.
      void worker.terminate();
      if (reply.ok) resolve(reply.output as O);
      else {
        // The message for the summary line, the driver thread's stack for the log.
        const error = new Error(reply.message);
        error.stack = `${reply.stack ?? reply.message}\n    in the driver thread of ${driver.module}`;
        reject(error);
      }
    });
    worker.once('error', (error: unknown) => {
      settled = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`driver ${driver.module} exited with code ${code} before answering`));
    });
  });
}

/** @internal the worker thread's entry point */
export function driverThreadMain(): void {
  const data = workerData as DriverWorkerData;
  const context: DriverContext = {
    kafkaClient: (clientId) => createKafka(data.brokers, clientId),
    log,
  };
  const run = async (): Promise<unknown> => {
    // A plain require, so the module goes through the same swc hook as everything else here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(data.module) as { driver?: Driver<unknown, unknown> };
    if (!loaded.driver) throw new Error(`${data.module} exports no driver`);
    return loaded.driver.run(data.input, context);
  };
  run().then(
    (output) => parentPort?.postMessage({ ok: true, output } satisfies DriverReply),
    (error: unknown) =>
      parentPort?.postMessage({
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      } satisfies DriverReply),
  );
}
